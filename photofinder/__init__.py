"""photofinder: find similar photos by example and clean out duplicates, locally."""

__version__ = "0.1.0"
