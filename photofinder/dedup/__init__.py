"""Helpers of ``photofinder.dedup.finder`` (the facade), by role:
- candidate pairs: candidates.py (CNN range search, near hits, dihedral signature hashing),
  on clustering.py's algorithms (batched kNN, multi-index hashing, union-find, average
  linkage); pixel signatures: signature.py;
- one pair: features.py (OpenCV ORB, cached per photo), verify.py (lining up, the stored
  geometry), verdict.py (the verdict's rules, typed);
- what the user sees: groups.py (copy groups and similar shots from the verdicts), keeper.py
  (the keeper rules) with consensus.py (the group's median picture), findings.py (the
  answer's records), results.py (stored results);
- the trash: cleanup.py (journal, verified moves, undo), recovery.py.
No Qt, no Library import."""
