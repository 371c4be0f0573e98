"""What every feature shares: config, errors, the HTTP edge, auth, storage base, messaging ports, clock, ids."""
