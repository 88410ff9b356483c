"""The domain: incidents, events, teams, rules and the clock. Standard library only."""
