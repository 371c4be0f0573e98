"""HTTP edge: one Blueprint per feature, auth, and the one error-mapping table."""
