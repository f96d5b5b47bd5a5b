"""Posts from a NATS JetStream stream: read, stored in batches, dead-lettered when refused."""
