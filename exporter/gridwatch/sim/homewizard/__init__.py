"""A simulated HomeWizard P1 meter: API v1, v2 with its own CA and pairing, WebSocket push."""
