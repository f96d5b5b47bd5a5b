"""Cases, the unit of review: one per reported post; their state machine, queues and claims,
decisions, triage's priority score and near-duplicates. Domain layer."""
