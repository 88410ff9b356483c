"""The multi-agency timeline chart and its data layout."""
