"""Silencing libmpg123, which libsndfile decodes MP3 with.

On a damaged frame or bytes that are not audio, libmpg123 prints its own notes ("Note:
Illegal Audio-MPEG-Header 0x00000000 at offset 996.", "Note: Trying to resync...") straight
to file descriptor 2, in the middle of the CLI's output and the service's JSON log lines.
libsndfile sets no option to quiet it (MPG123_QUIET is a flag of its decoder handle, which
soundfile does not reach), and what those notes mean our own errors and `warnings` already
say in words a user can act on. So `quiet_decoder()` holds them back around each call into
the decoder.

fd 2 belongs to the whole process, so it is never closed, only pointed elsewhere for a
moment: while any thread is inside a `quiet_decoder()` block, fd 2 points at a scratch file;
when the last one leaves, fd 2 points back at the real stderr and everything else written
there meanwhile (another thread's log line) is passed on, less libmpg123's lines. Blocks are
short (opening a file, decoding one block of it), so such a line is late by milliseconds.
Whoever else points fd 2 somewhere during a block (pytest's capture, between test phases)
keeps it so: it is put back only if it still points at the scratch file.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# What libmpg123 (and LAME's decoder, `hip`) print, as found in the libsndfile that soundfile
# ships: "Note: ..." lines, "[src/libmpg123/parse.c:...] error: ...", "hip: ..." and one
# bare "big_values too large!".
NOISE = re.compile(rb"^(Note: |Warning: |\[src/libmpg123/|hip: |big_values too large!)")

_lock = threading.Lock()
_depth = 0
_saved_fd = -1  # the real stderr, while redirected
_scratch: int | None = None  # where fd 2 points meanwhile


@contextmanager
def quiet_decoder() -> Iterator[None]:
    """Around a call into libsndfile that may decode MP3: libmpg123's lines on fd 2 are
    dropped; anything else written to fd 2 meanwhile comes out when the block ends."""
    entered = _enter()
    try:
        yield
    finally:
        if entered:
            _leave()


def _enter() -> bool:
    global _depth, _saved_fd, _scratch
    with _lock:
        if _depth == 0:
            try:
                if _scratch is None:
                    _scratch = _scratch_file()
                saved = os.dup(2)
            except OSError:  # no fd 2 at all (a daemon), or no temporary directory
                return False
            os.dup2(_scratch, 2)
            _saved_fd = saved
        _depth += 1
        return True


def _leave() -> None:
    global _depth, _saved_fd
    with _lock:
        _depth -= 1
        if _depth:
            return
        assert _scratch is not None
        if _same_file(2, _scratch):
            os.dup2(_saved_fd, 2)
        # else something else pointed fd 2 elsewhere meanwhile (a test runner capturing
        # output): theirs now, and not ours to undo
        os.close(_saved_fd)
        _saved_fd = -1
        held = _drain(_scratch)
        kept = b"".join(line for line in held.splitlines(keepends=True) if not NOISE.match(line))
        _write_all(2, kept)


def _same_file(a: int, b: int) -> bool:
    try:
        first, second = os.fstat(a), os.fstat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _scratch_file() -> int:
    """An unnamed file (gone when the process is): fd 2's stand-in, emptied after each use."""
    fd, path = tempfile.mkstemp(prefix="transcribe-stderr-")
    os.unlink(path)
    return fd


def _drain(fd: int) -> bytes:
    """What was written to the scratch file, which is then empty again. fd 2 shared its file
    offset while it pointed there, so the offset is back to 0 for the next block."""
    size = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, size) if size else b""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return data


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            written = os.write(fd, data)
        except OSError:  # stderr closed under us: nothing to tell anyone
            return
        data = data[written:]
