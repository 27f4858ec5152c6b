"""Tuya plugs: local protocol (tinytuya) and Tuya Cloud OpenAPI, and the load-shedding rules."""
