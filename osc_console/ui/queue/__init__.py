"""The incident queue: table model over store queries, filters, search."""
