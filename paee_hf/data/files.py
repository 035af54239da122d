"""Reading data files as text or JSON, with errors that name the file, the place and the fix."""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Byte-order marks of encodings that are not UTF-8, longest first (UTF-32's LE mark starts like UTF-16's).
_OTHER_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
               (codecs.BOM_UTF16_BE, "UTF-16"))


def read_text_file(path: str | os.PathLike) -> str:
    """Read a whole UTF-8 file (a leading byte-order mark is accepted).

    Args:
        path: The file to read.

    Returns:
        The decoded text.

    Raises:
        ValueError: When the file does not exist or is not valid UTF-8 (the message gives the byte offset, or the
            encoding when a byte-order mark names it).
    """
    source = os.fspath(path)
    if not Path(source).is_file():
        raise ValueError(f"{source}: no such file. Check the path.")
    raw = Path(source).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise not_utf8_error(source, raw, error) from None


def not_utf8_error(source: str, raw: bytes, error: UnicodeDecodeError) -> ValueError:
    """The message for a file that is not UTF-8: the encoding its byte-order mark names, else the bad byte."""
    for bom, encoding in _OTHER_BOMS:
        if raw.startswith(bom):
            return ValueError(f"{source}: the file is {encoding}, not UTF-8. Re-encode the file as UTF-8 "
                              f"(e.g. `iconv -f {encoding} -t UTF-8`).")
    snippet = raw[max(0, error.start - 20) : error.end + 20]
    return ValueError(f"{source}: byte {error.start} is not valid UTF-8 ({error.reason}) near {snippet!r}. "
                      "Re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).")


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file, a byte-order mark allowed, blank lines skipped; streamed.

    Raises:
        ValueError: For a missing file, or a line that is not UTF-8 (naming the line and the encoding to convert).
    """
    if not Path(path).is_file():
        raise ValueError(f"{os.fspath(path)}: no such file. Check the path.")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise not_utf8_error(f"{os.fspath(path)}, line {number}", raw, error) from None
            if line.strip():
                yield number, line


def check_writable(path: str | os.PathLike, option: str) -> None:
    """Fail early, before any work, when ``path`` (a file or directory to be created) cannot be written.

    Nothing is created: the nearest existing folder above ``path`` must be a directory in which a file can really be
    made (a temporary one, removed at once). Permission bits alone would not do: root ignores them, while a read-only
    filesystem or sysfs refuses root too.

    Args:
        path: The output path.
        option: How the user gave it, for the message (e.g. ``"--output"``).

    Raises:
        ValueError: When a folder on the way is a regular file, or the nearest existing folder refuses new files.
    """
    target = Path(path).expanduser().absolute()
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{option} {os.fspath(path)}: {ancestor} is a regular file, not a directory; give a path "
                         "whose folders are directories.")
    try:
        with tempfile.TemporaryFile(dir=ancestor, prefix=".paee-write-check-"):
            pass
    except OSError as error:
        raise ValueError(f"{option} {os.fspath(path)}: cannot write in {ancestor} ({error.strerror}); give a path in "
                         "a directory you can write to.") from None


def load_json_file(path: str | os.PathLike) -> Any:
    """Parse a UTF-8 JSON file.

    Args:
        path: The file to read.

    Returns:
        The parsed JSON value.

    Raises:
        ValueError: When the file is missing, not UTF-8 or not JSON (the message gives line and column).
    """
    text = read_text_file(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)}: not valid JSON at line {error.lineno}, column {error.colno} ({error.msg}). "
            "Fix the JSON syntax there."
        ) from None
