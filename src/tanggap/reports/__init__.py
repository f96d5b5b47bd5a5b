"""Reports domain."""
