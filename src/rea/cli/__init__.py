"""The `rea` command line."""

from rea.cli._main import app, main

__all__ = ["app", "main"]
