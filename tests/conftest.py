"""Plugins for the whole test suite (each in its own module, so conftest edits stay small)."""

pytest_plugins = ["tests.clock", "tests.process_guard"]
