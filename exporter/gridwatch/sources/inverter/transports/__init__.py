"""Byte links for the Voltronic ASCII protocols: serial line, USB HID, the Eybond dongle."""
