"""Provision tokens: generation, the lookup hash, and the broker's password hash."""
from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_PREFIX = "tok_"
# Mosquitto 2.0's own format ("$7$", PBKDF2-HMAC-SHA512, 101 rounds, as mosquitto_passwd writes).
MOSQUITTO_ITERATIONS = 101


def new_token() -> str:
    """A fresh provision token with 256 bits of entropy."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Lookup key of a token. Unsalted SHA-256 suffices: tokens are random, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


def mosquitto_password_hash(password: str, salt: bytes | None = None) -> str:
    """The same secret in the broker's password-file format."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_ITERATIONS)
    return f"$7${MOSQUITTO_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
