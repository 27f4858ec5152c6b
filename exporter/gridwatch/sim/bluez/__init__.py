"""A fake BlueZ on a private dbus-daemon, with JK BMS packs replaying real frames."""
