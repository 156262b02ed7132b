"""Helpers of ``photofinder.dedup.finder`` (the facade): candidate pairs (candidates.py:
CNN range search, dihedral signature hashing), local features cached per photo (features.py,
OpenCV ORB), the strict check of one pair (verify.py), groups and the keeper (groups.py,
grouping.py, keeper.py), stored results (results.py), the answer's shapes (model.py), pixel
signatures (signature.py), trash with journal and undo (cleanup.py, recovery.py).
No Qt, no Library import."""
