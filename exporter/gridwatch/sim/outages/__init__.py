"""A simulated outage operator in the be-svitlo wire format."""
