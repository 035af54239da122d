"""Crash-safe checkpoint directories: a kill at any moment never leaves a corrupt "latest" checkpoint.

Layout under ``<output_dir>/checkpoints``::

    step_40/        complete resumable state (accelerate ``save_state``, ``lr_schedule.json``, ``progress.json``)
    step_60/
    step_80.tmp/    a write in progress (or interrupted): never read
    latest          text file naming the newest complete checkpoint ("step_60")

A checkpoint is written into ``step_N.tmp``, then renamed to ``step_N`` (an atomic rename on POSIX), and only then
is ``latest`` replaced, itself through a temporary file and ``os.replace``. So ``latest`` always names a complete
directory. Multi-node runs need ``output_dir`` on a filesystem that every node sees.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

LATEST_POINTER = "latest"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new content, never a partial file."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def replace_directory(source: Path, target: Path) -> None:
    """Move the complete directory ``source`` to ``target``, replacing what is there.

    POSIX cannot rename over a non-empty directory, so the old ``target`` is first renamed to ``target.old`` and
    deleted after the move; [`recover_directory`] undoes a kill in between.
    """
    previous = target.with_name(target.name + ".old")
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        os.replace(target, previous)
    os.replace(source, target)
    if previous.exists():
        shutil.rmtree(previous)


def recover_directory(target: Path) -> None:
    """Put back ``target.old`` when a kill hit [`replace_directory`] between its two renames."""
    previous = target.with_name(target.name + ".old")
    if previous.exists() and not target.exists():
        os.replace(previous, target)


class CheckpointDirectory:
    """The numbered checkpoints of one run and its ``latest`` pointer.

    Args:
        root: The ``checkpoints`` directory.
        keep: How many complete checkpoints to keep (the oldest are deleted after a new one is committed).
    """

    def __init__(self, root: str | os.PathLike, keep: int = 2) -> None:
        if keep < 1:
            raise ValueError(f"keep={keep}: at least the newest checkpoint must be kept.")
        self.root = Path(root)
        self.keep = keep

    def latest(self) -> Path | None:
        """The newest complete checkpoint, or ``None`` when there is none.

        Raises:
            ValueError: When ``latest`` names a directory that is missing (someone deleted it by hand).
        """
        pointer = self.root / LATEST_POINTER
        if not pointer.is_file():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        directory = self.root / name
        if not _STEP_DIR.match(name) or not directory.is_dir():
            raise ValueError(f"{pointer} names {name!r}, which is not a checkpoint directory there; restore it or "
                             f"point {LATEST_POINTER} at one of {[path.name for path in self.completed()]}.")
        return directory

    def resume_candidates(self) -> list[Path]:
        """The checkpoints a resumed run tries in turn: the one ``latest`` names, then the older complete ones,
        newest first (a newest checkpoint that cannot be loaded, e.g. a truncated file, falls back to these).

        Raises:
            ValueError: As [`latest`].
        """
        latest = self.latest()
        if latest is None:
            return []
        newest_step = _step_of(latest)
        return [latest, *(path for path in reversed(self.completed()) if _step_of(path) < newest_step)]

    def completed(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        if not self.root.is_dir():
            return []
        found = [path for path in self.root.iterdir() if path.is_dir() and _STEP_DIR.match(path.name)]
        return sorted(found, key=_step_of)

    def staging(self, step: int) -> Path:
        """The temporary directory a checkpoint of ``step`` is written into (emptied first)."""
        staging = self.root / f"step_{step}.tmp"
        if staging.exists():
            shutil.rmtree(staging)  # left by an interrupted write
        staging.mkdir(parents=True)
        return staging

    def commit(self, step: int) -> Path:
        """Publish the staged checkpoint of ``step``: rename it, point ``latest`` at it, delete the oldest ones."""
        final = self.root / f"step_{step}"
        if final.exists():
            shutil.rmtree(final)  # a resumed run writes the same step again
        os.replace(self.root / f"step_{step}.tmp", final)
        write_text_atomic(self.root / LATEST_POINTER, final.name)
        for old in self.completed()[: -self.keep]:
            if old != final:
                shutil.rmtree(old)
        return final


def _step_of(checkpoint: Path) -> int:
    """The step of a ``step_N`` directory."""
    return int(_STEP_DIR.match(checkpoint.name).group(1))
