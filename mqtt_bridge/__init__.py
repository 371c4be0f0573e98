"""The MQTT bridge: forwards device-to-cloud messages into the device-message Lambda."""
