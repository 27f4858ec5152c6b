"""Bluetooth batteries through aiobmsble: discovery, devices file, sequential polling."""
