"""What one operation changed, so each screen decides for itself whether to redraw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ChangeSet:
    events: tuple[str, ...] = ()
    incidents: frozenset[str] = field(default_factory=frozenset)
    new_incidents: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.events)

    def merge(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(
            self.events + other.events,
            self.incidents | other.incidents,
            self.new_incidents | other.new_incidents,
        )
