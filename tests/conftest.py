"""Plugins for the whole suite."""

pytest_plugins = ["tests.clock"]
