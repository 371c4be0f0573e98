"""Operator authentication: the authorizer, JWT checks, provision tokens."""
