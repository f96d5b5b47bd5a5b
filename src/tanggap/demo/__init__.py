"""The demo: channels, posts, reports and people for ``make run``. Application layer."""
