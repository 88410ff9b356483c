"""Search across incidents and log text, with filters."""
