"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from src.errors import DataError

ModelT = TypeVar("ModelT", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see ``atomic_write_bytes``)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename.

    The rename is atomic on POSIX file systems, and the folder is fsynced afterwards so the
    new name survives a crash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600 and we keep it so: events, state and the paper account
        # describe someone's money and are for the account's owner only.
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Remove the partial temporary file, then let the error propagate unchanged.
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def append_lines(path: Path, lines: list[str]) -> None:
    """Append ``lines`` (one record each, no newlines inside) to ``path`` and fsync it.

    For files that only grow (a history): the cost of a write no longer depends on how long the
    file is. A crash can leave a partial last line; readers drop it (``AgentStateStore.load``).
    """
    path = Path(path)
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # the new name must survive a crash too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_json(path: Path, payload: Any) -> None:
    """Serialise ``payload`` as indented JSON and write it atomically."""
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=False) + "\n")


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete temporary files a killed writer left behind in ``directory``; returns them.

    Only files matching this module's own temporary pattern (``.<name>.<random>.tmp``) are
    touched: they are never a valid file, since the rename is what publishes one.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    stale = sorted(directory.glob(".*.tmp"))
    for path in stale:
        path.unlink()
    return stale


def read_model(path: Path, model: type[ModelT], invalid: str) -> ModelT:
    """Read ``path`` as JSON into ``model``; a file that does not validate is a ``DataError``
    starting with ``invalid`` (which should name the file), never silently replaced."""
    try:
        return model.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(f"{invalid}: {exc}") from exc
