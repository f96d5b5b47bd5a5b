"""Appeals by a post's owner against a decision."""
