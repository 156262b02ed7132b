"""Where things live on disk: the user data dir, the default library, the model folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "photofinder"


def data_dir() -> Path:
    """The user data dir (``$PHOTOFINDER_DATA`` overrides it)."""
    env = os.environ.get("PHOTOFINDER_DATA")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_library() -> Path:
    env = os.environ.get("PHOTOFINDER_LIBRARY")
    return Path(env) if env else data_dir() / "library"


def model_dir(name: str) -> Path:
    return data_dir() / "models" / name
