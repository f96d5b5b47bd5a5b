"""Hash banks: lists of known violating content, by hash, each with a policy."""
