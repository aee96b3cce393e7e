"""Run ``cultcov`` as if the disk holding one folder were full.

Usage: ``python tests/_full_disk.py FOLDER ARG...`` runs ``cultcov ARG...``.

Files opened for writing inside FOLDER are created (as on a disk that still
has free inodes), but no byte reaches them: the operating-system write fails
with ``ENOSPC`` when buffered data is flushed or the file is closed, as on a
full file system. Only writes made through Python's ``open`` are affected.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import sys


class _FullDiskFile(io.FileIO):
    def write(self, data) -> int:  # noqa: ANN001 - io.FileIO signature
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.name)


def install(folder: str) -> None:
    """Make every file opened for writing under ``folder`` behave as on a full disk."""
    root = os.path.realpath(folder) + os.sep
    real_open = builtins.open

    def full_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                  closefd=True, opener=None):
        writing = any(c in mode for c in "wax+")
        if (not writing or not isinstance(file, (str, bytes, os.PathLike))
                or not os.path.realpath(os.fsdecode(file)).startswith(root)):
            return real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
        raw = _FullDiskFile(os.fsdecode(file), mode.replace("b", "").replace("t", ""))
        buffered = io.BufferedRandom(raw) if "+" in mode else io.BufferedWriter(raw)
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", errors=errors,
                                newline=newline)

    builtins.open = full_open
    io.open = full_open


if __name__ == "__main__":
    install(sys.argv[1])
    from coverage.cli import main

    sys.exit(main(sys.argv[2:]))
