"""Posts domain."""
