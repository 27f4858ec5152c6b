"""A simulated SMG-II inverter behind a pymodbus server, a pseudo-terminal or an Eybond dongle."""
