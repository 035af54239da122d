"""Reading data files as text or JSON, with errors that name the file, the place and the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_text_file(path: str | os.PathLike) -> str:
    """Read a whole UTF-8 file (a leading byte-order mark is accepted).

    Args:
        path: The file to read.

    Returns:
        The decoded text.

    Raises:
        ValueError: When the file does not exist or is not valid UTF-8 (the message gives the byte offset).
    """
    source = os.fspath(path)
    if not Path(source).is_file():
        raise ValueError(f"{source}: no such file. Check the path.")
    raw = Path(source).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        snippet = raw[max(0, error.start - 20) : error.end + 20]
        raise ValueError(
            f"{source}: byte {error.start} is not valid UTF-8 ({error.reason}) near {snippet!r}. "
            "Re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."
        ) from None


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
