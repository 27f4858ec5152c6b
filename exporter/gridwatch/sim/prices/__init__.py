"""A simulated day-ahead price server in the elprisetjustnu and Nord Pool wire formats."""
