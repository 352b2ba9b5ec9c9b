"""The credential cache and what keeps it true: the in-process store (`store`), the
database's invalidation log applied in every process (`invalidation`), the receipts that
say every worker has applied a change (`propagation`), and the operators' metrics
(`metrics`). Nothing here knows a credential kind: entries are tagged by the bearer path
and dropped by the tags the database logs."""
