"""Device certificates: X.509 client certificates bound to a device's broker username."""
