"""Helpers of ``photofinder.dedup.finder`` (the facade): pixel signatures and their checks
(signature.py), candidate search and grouping (grouping.py), keeper rules (keeper.py),
trash with journal and undo (cleanup.py). Pure Python/numpy; no Qt, no Library import."""
