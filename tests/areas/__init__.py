"""Areas that exist only in the tests, to show what adding an area takes."""
