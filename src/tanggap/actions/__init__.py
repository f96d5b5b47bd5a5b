"""The action outbox: what a decision asks of the platform (remove, geo-restrict, ban, restore),
the port to the platform, and delivery on the outbox engine. Domain layer."""
