"""Helpers for the nightly event-log compaction job."""
