"""Usage: every authenticated request counted in process memory, flushed in batches, rolled
up by the scheduler and reported by the API and the portal (README › Usage)."""
