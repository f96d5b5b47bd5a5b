"""The audit trail: every state change as a hash-chained event, appended in the change's own
transaction, and its verification. Foundation."""
