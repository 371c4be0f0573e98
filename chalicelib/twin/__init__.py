"""The device twin: desired and reported state, the delta, reports over MQTT and HTTPS."""
