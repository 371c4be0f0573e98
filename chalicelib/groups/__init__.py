"""Device groups and their memberships."""
