"""Fleet control plane: everything the Chalice app is made of."""
