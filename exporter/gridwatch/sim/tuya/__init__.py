"""Tuya peers: tuyamock devices on loopback and a fake Tuya cloud that checks signatures."""
