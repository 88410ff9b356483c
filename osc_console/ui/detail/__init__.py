"""The incident detail: header, assignments, timeline, quick entry."""
