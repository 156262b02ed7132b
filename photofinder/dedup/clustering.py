"""Candidates and groups, never all-vs-all.

- ``cnn_pairs``: range search in the HNSW index, photo by photo in chunks (kNN that widens
  while its last hit is still above the threshold), so memory stays flat.
- ``dihedral_pairs``: rotated/mirrored copies, found by multi-index hashing of the signatures'
  eight dihedral sign hashes (4 bands of 16 bits: a pair within ``max_bits`` differing bits
  shares a band exactly when max_bits < 4; more often than not for a few more bits).
- ``constrained_groups``: union-find over verified edges, strongest first, that refuses any
  union joining a pair the user marked "not duplicates" (copies: a copy of a copy is a copy).
- ``linked_groups``: average linkage over weighted edges (similar shots): two groups join
  only when their members are linked, on average, at least ``LINK`` (a missing pair counts
  0), so look-alikes never chain A~B~C~... into one group across scenes.
"""

from __future__ import annotations

import heapq
from typing import Callable, Iterable, Iterator, cast

import numpy as np

BANDS = 4
MAX_BUCKET = 256  # a band value shared by more photos than this says nothing (blank skies)


def cnn_pairs(labels: list[int], vectors: Callable[[list[int]], np.ndarray],
              search_many: Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray]],
              threshold: float, chunk: int = 2048, k: int = 16, k_max: int = 256,
              low: float | None = None, low_pairs: tuple[set, set] | None = None,
              low_k: int = 1, lonely: float | None = None) -> Iterator[tuple[int, int, float]]:
    """(smaller label, larger label, similarity) with similarity >= threshold; a pair can
    come twice (once from each side): the caller keeps a dict. With ``low`` and
    ``low_pairs`` = (askers, answers): also each asker's nearest ``low_k`` answers below
    the threshold, from ``low`` up, among the ``k`` found (the same search: nothing more
    is asked of the index). With ``lonely``: a photo with no other photo at or above the
    threshold also pairs with its nearest one, from ``lonely`` up."""
    for start in range(0, len(labels), chunk):
        part = labels[start:start + chunk]
        vecs = vectors(part)
        kk = k
        todo = np.arange(len(part))
        while len(todo):
            # near copies sit far closer than anything else: a narrow search finds them
            found, sims = search_many(vecs[todo], kk, 4 * kk)
            widen = []
            for row, i in enumerate(todo):
                me = part[i]
                asks = low is not None and low_pairs is not None and kk == k and me in low_pairs[0]
                extra = 0 if asks else low_k
                alone = lonely is not None and kk == k  # no other photo above the threshold yet
                for lab, s in zip(found[row], sims[row]):
                    if s < threshold:
                        if alone and lab != me and s >= cast(float, lonely):
                            alone = False
                            yield min(me, int(lab)), max(me, int(lab)), float(s)
                        if extra >= low_k or s < cast(float, low):
                            break
                        if int(lab) not in cast(tuple[set, set], low_pairs)[1]:  # (asks)
                            continue
                        extra += 1
                    if lab != me:
                        alone = False
                        yield min(me, int(lab)), max(me, int(lab)), float(s)
                if sims.shape[1] == kk and sims[row, -1] >= threshold and kk < k_max:
                    widen.append(i)
            if not widen:
                break
            todo, kk = np.array(widen), min(kk * 4, k_max)


def dihedral_pairs(ids: np.ndarray, hashes: np.ndarray, max_bits: int = 6
                   ) -> dict[tuple[int, int], int]:
    """(id_a, id_b) -> g for photos whose hash, B turned by DIHEDRAL[g], is within
    ``max_bits`` of A's. ``hashes``: (n, 8) uint64 from signature.dihedral_hashes."""
    n = len(ids)
    out: dict[tuple[int, int], int] = {}
    if n < 2:
        return out
    base = hashes[:, 0]
    for band in range(BANDS):
        shift = np.uint64(16 * band)
        key = ((base >> shift) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(key, kind="stable")
        # where each band value's photos start in ``order``, and how many: a table of the
        # 65,536 values (what searchsorted would find, without 17 cache misses a lookup)
        count = np.bincount(key, minlength=1 << 16)
        first = np.cumsum(count) - count
        for g in range(1, 8):
            q = ((hashes[:, g] >> shift) & np.uint64(0xFFFF)).astype(np.int64)
            lo, cnt = first[q], count[q]
            ok = (cnt > 0) & (cnt <= MAX_BUCKET)
            if not ok.any():
                continue
            qi = np.repeat(np.nonzero(ok)[0], cnt[ok])
            starts = np.repeat(lo[ok], cnt[ok])
            offs = np.arange(len(qi)) - np.repeat(np.cumsum(cnt[ok]) - cnt[ok], cnt[ok])
            di = order[starts + offs]
            keep = qi != di
            qi, di = qi[keep], di[keep]
            bits = np.bitwise_count(np.bitwise_xor(hashes[qi, g], base[di]))
            close = bits <= max_bits
            # query photo qi turned by g looks like photo di as stored
            for a, b in zip(ids[di[close]].tolist(), ids[qi[close]].tolist()):
                key2 = (a, b) if a < b else (b, a)
                out.setdefault(key2, g)
    return out


class _Sets:
    def __init__(self):
        self.parent: dict = {}
        self.members: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        self.members.setdefault(x, {x})
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root


class Joined:
    """Plain union-find: which nodes checked copy edges already join."""

    def __init__(self, pairs=()):
        self._sets = _Sets()
        for a, b in pairs:
            self.join(a, b)

    def join(self, a, b) -> None:
        ra, rb = self._sets.find(a), self._sets.find(b)
        if ra != rb:
            self._sets.parent[rb] = ra

    def root(self, a):
        return self._sets.find(a)

    def same(self, a, b) -> bool:
        return self._sets.find(a) == self._sets.find(b)


def constrained_groups(edges: Iterable[tuple[object, object, float]], vetoed: set[frozenset],
                       weak: set | frozenset = frozenset(), moved: set | frozenset = frozenset()
                       ) -> list[set]:
    """Connected groups from edges (a, b, score), strongest first, never putting a vetoed
    pair ({a, b} in ``vetoed``) into one group.

    ``weak``: nodes whose edges with the others cannot tell two shots apart (thumbnails: too
    few pixels to see a view shift, a thumbnail is a "copy" of its original's tripod pan as
    much as of the original). Their edges with the other nodes come last: a part of weak
    nodes joins first the group it has the most edges with (then the larger), and through
    them no group joins another that a pair of ``moved`` (another shot) sets apart (a
    pair of two nodes not in ``weak``)."""
    sets = _Sets()

    def merge(a, b, apart: set | frozenset) -> None:
        ra, rb = sets.find(a), sets.find(b)
        if ra == rb:
            return
        ma, mb = sets.members[ra], sets.members[rb]
        for no in (vetoed, apart):
            if no and any(frozenset((x, y)) in no for x in ma for y in mb):
                return
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        sets.parent[rb] = ra
        ma |= mb
        del sets.members[rb]

    bridges = []
    for a, b, s in sorted(edges, key=lambda e: -e[2]):
        if (a in weak) != (b in weak):
            bridges.append((a, b) if a in weak else (b, a))
        else:
            merge(a, b, frozenset())
    if bridges:
        moved = {p for p in moved if not p & weak}  # (a thumbnail's "moved" is as weak)
        count: dict = {}
        for w, o in bridges:
            key = (sets.find(w), sets.find(o))
            count[key] = count.get(key, 0) + 1
        for w, o in sorted(count, key=lambda k: (-count[k], -len(sets.members[k[1]]), str(k))):
            merge(w, o, moved)
    return [m for r, m in sets.members.items() if sets.parent[r] == r and len(m) > 1]


def contradicted(edges: list[tuple], moved: set[frozenset]) -> set:
    """The nodes held in their copy group by one copy pair alone while a pair of them with
    another member of that group showed content that moved (another shot: ``moved``, the
    sure "similar" verdicts): that one copy verdict is the doubtful one (a burst frame or a
    tripod pan taken for a copy of one edited copy), so the node leaves the group and its
    copy pairs count for nothing. A node linked by two copy pairs or more stays: then the
    "moved" verdict is the odd one out. ``edges``: (a, b, score, ...)."""
    if not moved:
        return set()
    groups = constrained_groups([(e[0], e[1], e[2]) for e in edges], set())
    group_of = {n: i for i, g in enumerate(groups) for n in g}
    links: dict = {}
    for e in edges:
        for n in (e[0], e[1]):
            links[n] = links.get(n, 0) + 1
    out = set()
    for pair in moved:
        a, b = tuple(pair)
        if a in group_of and group_of.get(a) == group_of.get(b):
            out.update(n for n in (a, b) if links.get(n, 0) == 1)
    return out


LINK = 0.5  # average link two groups of similar shots need to be one (a similar pair weighs
# 1, a pair not found similar 0): a photo joins a group when it is like half its members


def linked_groups(edges: Iterable[tuple[object, object, float]], vetoed: set[frozenset],
                  link: float = LINK) -> list[set]:
    """Groups by average linkage over edges (a, b, weight in (0, 1]): starting from single
    nodes, the two groups with the highest average weight over all their cross pairs (a
    pair without an edge weighs 0) join while that average is at least ``link``, never
    putting a vetoed pair ({a, b} in ``vetoed``) into one group. Unlike union-find, a chain
    A~B~C of look-alikes does not make one group unless A~C holds too: a burst, whose frames
    are each like the others, stays one group; a string of scenes each like the next does
    not. Deterministic (ties go to the larger weight, then the smaller node). Each connected
    part is clustered on its own; one whose pairs are all linked (a burst) is one group."""
    w: dict = {}
    for a, b, x in edges:
        if a != b and x > 0:
            key = (a, b) if str(a) <= str(b) else (b, a)
            w[key] = max(w.get(key, 0.0), float(x))  # a pair counted once (its best)
    parts = Joined(w)
    by_part: dict = {}
    for key, x in w.items():
        by_part.setdefault(parts.root(key[0]), []).append((key, x))
    out = []
    for part in by_part.values():
        nodes = {n for key, _ in part for n in key}
        k = len(nodes)
        whole = (len(part) == k * (k - 1) // 2 and all(x >= link for _, x in part)
                 and not (vetoed and any(frozenset(key) in vetoed for key, _ in part)))
        if whole:  # every pair linked, none vetoed: whatever the order, all of it joins
            out.append(nodes)
        else:
            out += _average_linkage(part, vetoed, link)
    return out


def _average_linkage(part: list, vetoed: set[frozenset], link: float) -> list[set]:
    """linked_groups on one connected part: [((a, b), weight)], each pair once."""
    members: dict = {}
    near: dict = {}  # group id -> {group id: summed weight}
    name: dict = {}  # group id -> its smallest member (ties)
    for (a, b), x in part:
        for n in (a, b):
            if n not in members:
                members[n], near[n], name[n] = {n}, {}, str(n)
        near[a][b] = near[b][a] = x
    version = dict.fromkeys(members, 0)

    def entry(x, y):
        s = near[x][y]
        avg = s / (len(members[x]) * len(members[y]))
        if avg < link:
            return None
        nx, ny = (name[x], name[y]) if name[x] <= name[y] else (name[y], name[x])
        return (-avg, -s, nx, ny, x, y, version[x], version[y])
    heap = [e for (a, b), _ in part if (e := entry(a, b)) is not None]
    heapq.heapify(heap)
    while heap:
        _, _, _, _, x, y, vx, vy = heapq.heappop(heap)
        if version.get(x) != vx or version.get(y) != vy:
            continue  # one of the two has joined another since: its entries are new
        mx, my = members[x], members[y]
        if vetoed and any(frozenset((p, q)) in vetoed for p in mx for q in my):
            continue
        if len(mx) < len(my):
            x, y, mx, my = y, x, my, mx
        mx |= my
        del members[y], version[y]
        name[x] = min(name[x], name.pop(y))
        version[x] += 1
        for z, s in near.pop(y).items():
            del near[z][y]
            if z != x:
                near[x][z] = near[z][x] = near[x].get(z, 0.0) + s
        for z in near[x]:
            e = entry(x, z)
            if e is not None:
                heapq.heappush(heap, e)
    return [m for m in members.values() if len(m) > 1]


class Relations:
    """Copy groups as they grow during one check (union-find over copy edges), and what is
    known between two groups: "similar shots" (a burst frame found another shot of one copy
    is that of its other copies) and strikes (pairs of the two found unrelated). When two
    groups join, what each knew goes with the joined group, so no pair between two groups
    already told apart is checked again."""

    def __init__(self, copy_pairs=(), similar_tries: int = 1):
        self.joined = Joined()
        # how many "similar shots" verdicts between two groups tell them apart: one may be
        # wrong (a copy judged moved, a burst frame that joined a copy's group) and must not
        # hide every other pair of the two groups
        self.similar_tries = similar_tries
        self._similar: dict = {}  # root -> {root it is similar to: verdicts}
        self._strikes: dict = {}  # root -> {root: count}
        for a, b in copy_pairs:
            self.join(a, b)

    def same(self, a, b) -> bool:
        return self.joined.same(a, b)

    def similar(self, a, b) -> bool:
        return self.similars(a, b) >= self.similar_tries

    def similars(self, a, b) -> int:
        return self._similar.get(self.joined.root(a), {}).get(self.joined.root(b), 0)

    def strikes(self, a, b) -> int:
        return self._strikes.get(self.joined.root(a), {}).get(self.joined.root(b), 0)

    def add_similar(self, a, b, n: int = 1) -> None:
        ra, rb = self.joined.root(a), self.joined.root(b)
        if ra != rb:
            for x, y in ((ra, rb), (rb, ra)):
                row = self._similar.setdefault(x, {})
                row[y] = row.get(y, 0) + n

    def add_strike(self, a, b, n: int = 1) -> None:
        ra, rb = self.joined.root(a), self.joined.root(b)
        if ra != rb:
            for x, y in ((ra, rb), (rb, ra)):
                row = self._strikes.setdefault(x, {})
                row[y] = row.get(y, 0) + n

    def add_known_strikes(self, pairs) -> None:
        """Strikes from an earlier run, after its copy pairs are joined: between two groups,
        the most that one member of either side took from the other group (several
        members failing once each may be several edits that do not line up, and live
        counts do not add up across a join either)."""
        per: dict = {}
        for a, b in pairs:
            for x, y in ((a, b), (b, a)):
                key = (x, self.joined.root(y))
                per[key] = per.get(key, 0) + 1
        most: dict = {}
        for (x, ry), n in per.items():
            rx = self.joined.root(x)
            if rx != ry:
                key = (rx, ry) if rx <= ry else (ry, rx)
                most[key] = max(most.get(key, 0), n)
        for (rx, ry), n in most.items():
            self.add_strike(rx, ry, n)

    def join(self, a, b) -> None:
        ra, rb = self.joined.root(a), self.joined.root(b)
        if ra == rb:
            return
        self.joined.join(a, b)
        root = self.joined.root(a)
        gone = rb if root == ra else ra
        for other, n in self._similar.pop(gone, {}).items():
            self._similar.get(other, {}).pop(gone, None)
            if other != root:  # the larger count goes on, as with strikes
                self.add_similar(root, other, max(0, n - self.similars(root, other)))
        for other, n in self._strikes.pop(gone, {}).items():
            self._strikes.get(other, {}).pop(gone, None)
            if other != root:  # the larger count goes on (no sum: each side may be one edit)
                self.add_strike(root, other, max(0, n - self.strikes(root, other)))
        self._similar.get(root, {}).pop(root, None)
        self._strikes.get(root, {}).pop(root, None)
