"""Faults a training run recognises and reports instead of a bare traceback, and the output-directory lock.

* [`NonFiniteLossError`]: a NaN or infinite loss (the loop checks every micro-batch before its backward pass).
* [`CheckpointWriteError`]: a checkpoint or model could not be written (full disk, quota, file-size limit); nothing
  half-written is ever published.
* [`OutputDirectoryLockedError`]: another run holds ``<output_dir>/.lock`` ([`OutputDirectoryLock`]).

All are [`TrainingFault`]s, which ``paee`` prints as one ``paee: error:`` line (exit status 2).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
from pathlib import Path
from typing import IO

try:  # POSIX only; on other platforms the output directory is not locked and write failures are judged by errno
    import fcntl
    import resource
except ImportError:
    fcntl = resource = None

LOCK_FILE = ".lock"
#: Below this much free space a write failure without an errno is put down to a full disk.
_NEARLY_FULL_BYTES = 64 * 2**20
_WRITE_ERRNO_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "a file grew past the file-size limit (file too large)",
}


class TrainingFault(RuntimeError):
    """A run stopped by a fault it recognised; the message says what happened and how to go on."""


class NonFiniteLossError(TrainingFault):
    """The training loss became NaN or infinite (and ``skip_nonfinite_batches`` is off)."""


class CheckpointWriteError(TrainingFault):
    """A checkpoint or the model could not be written (disk full, quota, file-size limit)."""


class OutputDirectoryLockedError(TrainingFault):
    """Another training run is using the output directory."""


class OutputDirectoryLock:
    """An exclusive ``flock`` on ``<directory>/.lock``, which holds the holder's pid and host while it is held.

    The kernel drops the lock when its process dies, so a killed run never blocks the next one; the file itself
    stays (emptied on a normal release). Without ``fcntl`` (Windows) this lock does nothing.

    Args:
        directory: The run's output directory (created if missing).
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            OutputDirectoryLockedError: When another process holds it (the message names the holder).
        """
        if fcntl is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # not "w": the holder's pid must stay readable
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not written its pid yet"
            handle.close()
            raise OutputDirectoryLockedError(
                f"output directory {self.path.parent} is in use by another training run ({holder}; lock file "
                f"{self.path}); wait for that run to end or stop it, or choose another --output-dir."
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on host {socket.gethostname()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Empty the lock file and release the lock (a no-op when not held)."""
        if self._handle is None:
            return
        self._handle.truncate(0)
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None


def write_failure_reason(error: BaseException, directory: Path) -> str | None:
    """Why writing into ``directory`` failed, when ``error`` is a failed write; ``None`` for any other error.

    An ``OSError`` carries its errno; safetensors reports it as ``os error N``; torch's zip writer loses it (e.g.
    ``unexpected pos 576 vs 534``), so then a file-size limit (``ulimit -f``) or a nearly full disk is named as the
    probable cause.
    """
    code = getattr(error, "errno", None)
    if code is None and (match := re.search(r"os error (\d+)", str(error))):
        code = int(match.group(1))
    if code in _WRITE_ERRNO_REASONS:
        return f"{_WRITE_ERRNO_REASONS[code]} ({os.strerror(code)})"
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, OSError):
        return f"the write failed ({first_line})"
    if resource is not None:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            return (f"a file probably grew past this process's file-size limit of {limit} bytes (file too large; "
                    f"ulimit -f) ({first_line})")
    existing = next(path for path in (directory, *directory.parents) if path.exists())
    free = shutil.disk_usage(existing).free
    if free < _NEARLY_FULL_BYTES:
        return f"the disk is probably full ({free} bytes free) ({first_line})"
    return None
