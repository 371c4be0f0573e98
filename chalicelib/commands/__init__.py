"""Commands to devices: creation, publish, retry, ACKs, expiry and offline delivery."""
