"""Jobs: targets, executions and their state machine, notification, cancel and sweeps."""
