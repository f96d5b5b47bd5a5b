"""Screening posts: the detection pipeline on ingest, the background PDQ hashing of images, and
retroactive scans of the stored posts. Application layer: it records signals through
``detection`` and acts through ``review``."""
