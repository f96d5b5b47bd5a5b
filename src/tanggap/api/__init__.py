"""Api domain."""
