"""Bulk device import: CSV or JSON lines of up to thousands of devices, created in resumable chunks."""
