"""Deployment templates and the embedded local stack."""
