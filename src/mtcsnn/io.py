"""Files written so that a crash never leaves half of one, and read safely.

Every file is written to a temporary file in the same folder, flushed to
disk and renamed over the target: a crash (even ``SIGKILL`` or a power cut
after the rename) leaves either the old file or the new one. Torch files are
read with ``torch.load(..., weights_only=True)``, which rebuilds tensors and
plain values only; a file that asks to rebuild any other Python object (the
way a pickle runs code) is refused with :class:`UnsafeFileError`.
"""

from __future__ import annotations

import json
import os
import pickle
import pickletools
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Permissions of written files: what ``open`` would give under the umask."""


class UnsafeFileError(ValueError):
    """A file that would build arbitrary Python objects (and so run code)."""


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` with ``write(handle)`` through a temporary file.

    The temporary file ``.NAME.XXXX.tmp`` sits beside ``path``; it is flushed
    and synced, then renamed over ``path``, and the folder is synced so the
    rename itself survives a power cut. On any error the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def remove_temporaries(path: Path) -> int:
    """Delete temporary files that a killed :func:`atomic_write` left for ``path``.

    Returns how many were removed.
    """
    path = Path(path)
    stale = list(path.parent.glob(f".{path.name}.*.tmp"))
    for leftover in stale:
        leftover.unlink(missing_ok=True)
    return len(stale)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def save_torch(path: Path, data: Any) -> None:
    """``torch.save(data)`` to ``path`` atomically.

    Keep ``data`` to tensors and plain values (dicts, lists, tuples, strings,
    numbers, booleans, ``None``) so that :func:`load_torch` accepts it.
    """
    atomic_write(path, lambda handle: torch.save(data, handle))


def _pickled_globals(path: Path) -> list[str]:
    """Python objects a plain pickle file would import, read and never run.

    Empty if the file is not a plain pickle (a torch zip archive, garbage).
    """
    names: list[str] = []
    strings: list[str] = []
    try:
        with open(path, "rb") as handle:
            for opcode, arg, _ in pickletools.genops(handle):
                if opcode.name in ("GLOBAL", "INST"):
                    names.append(str(arg).replace(" ", "."))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    names.append(".".join(strings[-2:]))
                elif isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # not a (complete) pickle: nothing more to learn
        pass
    return names


def load_torch(path: Path) -> Any:
    """Read a file written by :func:`save_torch`, refusing anything but data.

    Raises
    ------
    UnsafeFileError
        If the file asks to rebuild a Python object other than tensors and
        plain values (a pickle can run any code while it is read); nothing
        of the file is executed.
    ValueError
        If the file is damaged or not a torch file at all.
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            # A plain pickle (not written by torch.save) draws this warning
            # before it is refused below.
            warnings.filterwarnings(
                "ignore", message="Detected pickle protocol", category=UserWarning
            )
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        names = [found.group(1)] if found is not None else _pickled_globals(path)
        if names:
            raise UnsafeFileError(
                f"{path}: refused to load: it asks to build the Python object "
                f"{names[0]}, which could run code; only tensors and plain "
                "values are loaded"
            ) from None
        raise ValueError(f"{path}: damaged or not a torch file") from None
    except Exception as err:  # any other failure to parse means a damaged file
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(
            f"{path}: damaged or not a torch file ({type(err).__name__}: {first})"
        ) from None
