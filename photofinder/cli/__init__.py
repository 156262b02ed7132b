"""The command line (``photofinder``, ``python -m photofinder``)."""

from photofinder.cli.main import main

__all__ = ["main"]
