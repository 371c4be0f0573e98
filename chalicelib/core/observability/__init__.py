"""Structured logs with a correlation id, and counters as CloudWatch embedded metrics."""
