"""`fleet`: the operator command line of the fleet control plane, over the public API only."""

__version__ = "0.1.0"
