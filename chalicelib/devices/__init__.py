"""The device registry: devices, credentials, presence and the wake schedule lookup."""
