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
    # a deliberate edit of the kept copy (tone, colour, black and white): a copy, shown as
    # one, never pre-selected for the trash unless the user says so
    edit: str | None = None
    _preselected = False  # set by the Group (not a field: no annotation)

    def to_json(self) -> dict:
        out = {"path": self.path, "kind": self.kind, "score": round(float(self.score), 6),
               "reasons": self.reasons}
        if self.kind != "similar":
            out["preselected"] = self.preselected
            out["edit"] = self.edit
        return out

    @property
    def preselected(self) -> bool:
        """Offered for the trash by default: damage (a worse copy), never a deliberate edit,
        the keeper or its RAW/JPEG twin (the group decides; see Group.preselected)."""
        return getattr(self, "_preselected", False)


@dataclass
class Group:
    keep: str
    members: list[Member]

    def to_json(self) -> dict:
        return {"keep": self.keep, "members": [m.to_json() for m in self.members]}

    def __post_init__(self):
        for m in self.members:
            m._preselected = (m.kind != "similar" and m.path != self.keep and not m.companion
                              and not m.edit)

    @property
    def others(self) -> list[Member]:
        """What may go to the trash: every member but the keeper (and its RAW/JPEG twin)."""
        return [m for m in self.members if m.path != self.keep and not m.companion]

    @property
    def preselected(self) -> list[Member]:
        """What goes to the trash unless the user says otherwise: the others less the
        deliberate edits (tone, colour, black and white)."""
        return [m for m in self.others if not m.edit]

    def to_trash(self, include_edits: bool = False) -> list[Member]:
        return self.others if include_edits else self.preselected


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
