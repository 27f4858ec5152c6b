"""Easun SMG-II and relatives: transports (serial, TCP, Eybond dongle) and YAML register maps."""
