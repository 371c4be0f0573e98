"""Provisioning templates: what a device enrolling itself may send, what its enrolment makes, who checks it."""
