"""Day-ahead spot prices: elprisetjustnu, Nord Pool; slots and the SQLite cache."""
