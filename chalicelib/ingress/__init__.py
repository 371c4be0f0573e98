"""The device-message Lambda and the router that hands each device-to-cloud topic to its feature."""
