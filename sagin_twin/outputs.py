"""Output paths: refuse an unusable one before any work, and hold an output folder exclusively.

Commands that write into a folder (``run``, ``sweep``, ``figure``) call :func:`check_output_folder`
before they compute anything and then hold :func:`locked_folder` while they write, so a second
command into the same folder fails at once instead of interleaving files. Commands that write one
file (``inspect --parquet``) call :func:`check_output_file`. Problems are :class:`InputError`
(one line, exit status 2).
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from common.errors import InputError

LOCK_FILE = ".sagin-twin.lock"  #: lock file inside a locked output folder (left in place: removing it would race)


def _usable(path: Path) -> Path:
    """``path`` as a Path, refusing text no file system takes (a NUL byte)."""
    if "\0" in str(path):
        raise InputError("not a usable path (it contains a NUL byte)", source=repr(str(path)))
    return Path(path)


def _deepest_existing(path: Path) -> Path:
    """``path`` itself or its nearest ancestor that exists."""
    current = path
    while not current.exists():
        if current.parent == current:
            break
        current = current.parent
    return current


def _probe_writable(folder: Path, target: Path, option: str) -> None:
    """Create and remove an empty folder in ``folder`` (works for root too, and on read-only mounts or /proc)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sagin-probe-", dir=folder))
    except OSError as exc:
        raise InputError(f"cannot write into {folder} ({exc.strerror}); choose another {option}", source=str(target)) from None


def check_output_folder(path: Path, option: str = "--out") -> None:
    """Refuse an output folder that is a file, lies under a file, cannot be written or is locked by
    another command (nothing is created; :func:`locked_folder` takes the lock itself later).

    Args:
        path: the output folder (it need not exist yet).
        option: the command-line option that named it, for the message.
    """
    path = _usable(path)
    try:
        existing = _deepest_existing(path)
    except (OSError, ValueError) as exc:  # e.g. a NUL byte in the path
        raise InputError(f"not a usable path ({exc})", source=str(path)) from None
    if not existing.is_dir():
        where = "is a file, not a folder" if existing == path else f"lies under {existing}, which is a file"
        raise InputError(f"{where}; choose another {option}", source=str(path))
    _probe_writable(existing, path, option)
    if existing == path:
        _check_unlocked(path, option)


def check_output_file(path: Path, option: str) -> None:
    """Refuse an output file whose folder does not exist or cannot be written, or that names a folder."""
    path = _usable(path)
    try:
        is_dir = path.is_dir()
        parent_ok = path.parent.is_dir()
    except (OSError, ValueError) as exc:
        raise InputError(f"not a usable path ({exc})", source=str(path)) from None
    if is_dir:
        raise InputError(f"is a folder; {option} takes a file name", source=str(path))
    if not parent_ok:
        raise InputError(f"folder {path.parent} does not exist", source=str(path))
    _probe_writable(path.parent, path, option)


def _holder(lock_path: Path) -> str:
    try:
        text = lock_path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


def _in_use(folder: Path, option: str) -> InputError:
    return InputError(f"is in use by another sagin-twin command{_holder(folder / LOCK_FILE)}; wait for it to finish "
                      f"or choose another {option}", source=str(folder))


def _check_unlocked(folder: Path, option: str) -> None:
    """Fail now, rather than after the work, if another command holds ``folder``'s lock."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return  # no lock file: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise _in_use(folder, option) from None
    finally:
        os.close(fd)


@contextmanager
def locked_folder(folder: Path, command: str, option: str = "--out") -> Iterator[Path]:
    """Create ``folder`` and hold an exclusive lock on it (``fcntl.flock`` on :data:`LOCK_FILE`) for the block.

    A second holder fails at once with an :class:`InputError` naming the process that holds the lock.
    The lock goes away with the process, however it ends (no stale locks after a kill).

    Args:
        folder: the output folder.
        command: what holds the lock (written into the lock file, for the message of a second holder).
        option: the command-line option that named the folder, for the message.
    """
    folder = _usable(folder)
    lock_path = folder / LOCK_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot create the output folder ({exc.strerror}); choose another {option}", source=str(folder)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InputError(f"cannot lock the output folder ({exc.strerror})", source=str(folder)) from None
            raise _in_use(folder, option) from None
        try:  # who holds it, for the message of a second command; best effort (the disk may be full)
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}: sagin-twin {command}\n".encode())
        except OSError:
            pass
        yield folder
    finally:
        os.close(fd)  # releases the lock
