"""Detection domain."""
