"""Adapters that keep a backend's state outside the process (the backend itself does no I/O)."""
