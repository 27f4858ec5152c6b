"""Inverter protocols other than the YAML Modbus maps: the Voltronic ASCII family (PI30, PI18)."""
