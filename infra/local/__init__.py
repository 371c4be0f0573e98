"""The embedded local stack: moto's DynamoDB, Mosquitto, chalice local, bridge, scheduler."""
