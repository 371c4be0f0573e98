"""The publisher port and its adapters (paho-mqtt, AWS IoT data plane)."""
