"""Limits an admin sets on a credential (or the organization, for every credential without its
own): named rate limits, usage credits with a refill, and an IP allowlist with a report-only
mode. Decided in process memory on the warm path (`check`), converged across processes in
batches (`sync`), configured through one service (`services`)."""
