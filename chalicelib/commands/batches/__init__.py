"""Group and site commands: one command per member device, followed as one batch."""
