"""Use cases: a user's intent becomes validated events; each says what changed. No Qt."""
