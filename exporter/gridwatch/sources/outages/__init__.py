"""Planned outage schedules (be-svitlo first), one module per operator."""
