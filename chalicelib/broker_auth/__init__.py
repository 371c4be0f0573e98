"""Device login on brokers the local stack does not run: EMQX-style HTTP auth and the AWS IoT Core authorizer."""
