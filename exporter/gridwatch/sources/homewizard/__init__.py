"""HomeWizard P1 meter: API v1, v2 with token, WebSocket push, pairing."""
