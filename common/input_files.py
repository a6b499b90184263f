"""Reading user input files safely: regular files only, a size cap per kind, TOML with a nesting limit.

Every input file (scenario, sweep, QKD network, TLE, trace, ``precode`` npz) is read through
:func:`read_bytes`, which opens the path without blocking, refuses anything that is not a regular
file (a folder, ``/dev/zero``, a FIFO, a socket), a path containing NUL, and a file larger than
its kind's cap (:data:`MAX_BYTES`). TOML is parsed by :func:`parse_toml` / :func:`read_toml`, the one
TOML reader of the project: it refuses nesting deeper than :data:`MAX_TOML_DEPTH` before
``tomllib`` recurses into it. Every failure is an :class:`InputError` naming the file.

A leaf module (standard library and ``errors`` only) so every layer can use it.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Final

from common.errors import InputError

MiB: Final = 1 << 20
#: largest accepted file per kind (bytes); documented in the README ("Bad input and faults")
MAX_BYTES: Final = {
    "scenario": 1 * MiB,
    "sweep": 1 * MiB,
    "QKD network": 16 * MiB,
    "TLE": 64 * 1024,
    "TLE catalogue": 16 * MiB,  # a constellation's satellites: ≈ 100,000 element sets in 3-line format
    "trace": 64 * MiB,
    "npz": 64 * MiB,
}
MAX_TOML_DEPTH: Final = 32  #: deepest nesting accepted in a TOML file, counting the document's table (``x = [[1]]`` is 3 levels)

_FILE_KINDS: Final = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


class TomlNestingError(InputError):
    """TOML nested deeper than :data:`MAX_TOML_DEPTH`."""


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n / 1024:g} KiB"


def read_bytes(path: Path | str, kind: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``MAX_BYTES[kind]`` of them."""
    source = str(path)
    limit = MAX_BYTES[kind]
    if "\x00" in source:
        raise InputError(f"{kind} path contains a NUL character", source=repr(source))
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot open the {kind} file: {exc.strerror or exc}", source=source) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise InputError(f"is {what}; expected a regular {kind} file", source=source)
        if info.st_size > limit:
            raise InputError(f"{kind} file is {_size(info.st_size)}; the limit is {_size(limit)}", source=source)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 * MiB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputError(f"{kind} file is larger than the limit of {_size(limit)}", source=source)
    except OSError as exc:
        raise InputError(f"cannot read the {kind} file: {exc.strerror or exc}", source=source) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: Path | str, kind: str) -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes`); newlines are kept as they are."""
    data = read_bytes(path, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=str(path)) from None


# strings and comments (where brackets do not nest) and the brackets themselves
_TOML_TOKENS: Final = re.compile(
    r'"""(?:\\.|[^\\])*?"""'        # multi-line basic string
    r"|'''[\s\S]*?'''"              # multi-line literal string
    r'|"(?:\\.|[^"\\\n])*"'         # basic string
    r"|'[^'\n]*'"                   # literal string
    r"|#[^\n]*"                     # comment
    r"|[\[\]{}]"
)


def _bracket_depth_exceeded(text: str) -> int | None:
    """The line where array / inline-table nesting first exceeds :data:`MAX_TOML_DEPTH`, or None."""
    depth = 0
    for match in _TOML_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth >= MAX_TOML_DEPTH:  # the document's own table is a level too
                return text.count("\n", 0, match.start()) + 1
        elif token in "]}":
            depth = max(0, depth - 1)
    return None


def _value_depth(value: Any) -> int:
    """Nesting depth of parsed TOML (tables and arrays), computed without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_TOML_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_toml(text: str, source: str) -> dict:
    """Parse TOML text as data (``tomllib``: no eval), refusing nesting deeper than :data:`MAX_TOML_DEPTH`."""
    line = _bracket_depth_exceeded(text)
    if line is not None:
        raise TomlNestingError(f"arrays or inline tables nested more than {MAX_TOML_DEPTH} levels deep", source=source, field=f"line {line}")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error (not valid TOML): {exc}", source=source) from None
    except RecursionError:  # a nesting the bracket scan did not see (never expected)
        raise TomlNestingError(f"nested more than {MAX_TOML_DEPTH} levels deep", source=source) from None
    if _value_depth(table) > MAX_TOML_DEPTH:
        raise TomlNestingError(f"tables (dotted keys) nested more than {MAX_TOML_DEPTH} levels deep", source=source)
    return table


def read_toml(path: Path | str, kind: str = "scenario") -> dict:
    """Read and parse a TOML file of the given kind (size cap, regular file, nesting limit)."""
    return parse_toml(read_text(path, kind), str(path))
