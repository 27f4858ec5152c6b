"""gridwatch: watch a home's electricity and act on it."""

__version__ = "0.1.0"
