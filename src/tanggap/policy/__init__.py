"""The policy file: harm categories, deadline classes, triage weights; deadlines computed from it.
Foundation."""
