"""What one operation changed, so each screen decides for itself whether to redraw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ChangeSet:
    events: tuple[str, ...] = ()
    incidents: frozenset[str] = field(default_factory=frozenset)
    new_incidents: frozenset[str] = field(default_factory=frozenset)
    # The event kinds written: a screen can tell "only log entries were added" (no order or
    # filter field moved) from a change of grade, status or assignment.
    kinds: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.events)

    @property
    def only_entries(self) -> bool:
        """Only log entries, amendments or decisions: incident fields are unchanged."""
        return bool(self.kinds) and self.kinds <= _ENTRY_KINDS

    def merge(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(
            self.events + other.events,
            self.incidents | other.incidents,
            self.new_incidents | other.new_incidents,
            self.kinds | other.kinds,
        )


_ENTRY_KINDS = frozenset({"log.added", "log.amended", "decision.recorded"})
