"""The local SQLite store: the event log, its projections, search and the sync outbox."""
