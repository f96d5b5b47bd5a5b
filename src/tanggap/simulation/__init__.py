"""A discrete-event simulation of the review queues over the real triage code.

How to write a scenario and read the report: docs/simulation.md.
"""
