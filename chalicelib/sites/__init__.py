"""Sites: wake schedules, device mapping and the fan-out of schedule changes to devices."""
