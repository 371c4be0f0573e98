"""Benchmarks: scripts that print numbers (latency percentiles, throughput, DynamoDB requests)."""
