"""Telling reporters and leads what happened: the Notifier port (plain data), signed webhooks
queued in the change's transaction and sent by the outbox engine, the delivery log. Domain layer."""
