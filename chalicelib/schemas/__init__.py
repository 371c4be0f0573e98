"""Pydantic models for every boundary: HTTP bodies, responses, MQTT payloads, records."""
