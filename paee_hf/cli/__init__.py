"""The ``paee`` command line and the HTML view of predictions."""

from .commands import main

__all__ = ["main"]
