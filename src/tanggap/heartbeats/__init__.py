"""Heartbeats of the background jobs: one row per job and process, for liveness gauges."""
