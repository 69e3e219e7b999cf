"""The command line (``run.py``): each module registers its commands, which call the service
layer (:class:`engine.platform.Platform`, :class:`engine.service.Records`)."""

from apps.cli.main import main, parser

__all__ = ["main", "parser"]
