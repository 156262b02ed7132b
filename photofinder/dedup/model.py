"""What the duplicates check answers: groups of members, and the whole answer (copies apart
from similar shots). Plain dataclasses; ``to_json`` gives the CLI contract's shapes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Member:
    path: str
    kind: str  # "exact" (same bytes as the keeper), "near" (edited copy) or "similar"
    score: float
    reasons: list[str]
    photo_id: int
    hash: str
    also: list[str] = field(default_factory=list)  # other paths of the same file (hard links)
    size: int | None = None  # the file as it was judged: checked again before any move
    mtime_ns: int | None = None
    companion: bool = False  # the RAW/JPEG twin of the keeper: one photo, kept with it

    def to_json(self) -> dict:
        return {"path": self.path, "kind": self.kind, "score": round(float(self.score), 6),
                "reasons": self.reasons}


@dataclass
class Group:
    keep: str
    members: list[Member]

    def to_json(self) -> dict:
        return {"keep": self.keep, "members": [m.to_json() for m in self.members]}

    @property
    def others(self) -> list[Member]:
        """What may go to the trash: every member but the keeper (and its RAW/JPEG twin)."""
        return [m for m in self.members if m.path != self.keep and not m.companion]


@dataclass
class Findings:
    """Copy groups (``groups``) and, apart, similar shots (never offered for the trash)."""
    groups: list[Group]
    similar_shots: list[Group]
    fresh: bool = True  # False: stored results from before, some of them no longer shown
    created_at: float | None = None
    stats: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"groups": [g.to_json() for g in self.groups],
                "similar_shots": [g.to_json() for g in self.similar_shots]}
