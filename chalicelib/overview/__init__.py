"""The fleet at a glance: presence, command outcomes, jobs in progress and twins, from indexes."""
