"""The review console: queues, cases, decisions, approvals, appeals."""
