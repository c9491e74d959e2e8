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

A write that took fd 2 just before it was pointed back may land in the scratch file after it
was read. So the file is never closed nor emptied under such a write: it is one file for the
process, read on from where the last reading stopped (the late line comes out with the next
block, or at exit), and emptied only when a second has passed since the last block.
Whoever else points fd 2 somewhere during a block (pytest's capture, between test phases)
keeps it so: fd 2 is put back only if it still points at the scratch file.
"""

from __future__ import annotations

import atexit
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# What libmpg123 (and LAME's decoder, `hip`) print, as found in the libsndfile that soundfile
# ships: "Note: ..." lines, "[src/libmpg123/parse.c:...] error: ...", "hip: ..." and one
# bare "big_values too large!".
NOISE = re.compile(rb"^(Note: |Warning: |\[src/libmpg123/|hip: |big_values too large!)")

# The scratch file is emptied when it holds at least this much and no block has run for a
# second (no write can still be on its way into it by then).
_EMPTY_AT_BYTES = 1 << 20
_EMPTY_AFTER_S = 1.0

_lock = threading.Lock()
_depth = 0  # threads inside a block
_saved_fd = -1  # the real stderr, while fd 2 points at the scratch file
_scratch = -1  # the scratch file, made at first use
_passed = 0  # how much of it was read (and passed on, less the noise)
_left_at = 0.0  # when the last block ended (time.monotonic)


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
    global _depth, _saved_fd, _scratch, _passed
    with _lock:
        if _depth == 0:
            try:
                if _scratch < 0:
                    _scratch = _scratch_file()
                saved = os.dup(2)
            except OSError:  # no fd 2 (a daemon), or no temporary dir: let it through
                return False
            if _passed >= _EMPTY_AT_BYTES and time.monotonic() - _left_at > _EMPTY_AFTER_S:
                _pass_on(_read_on())  # a late line, if any
                os.ftruncate(_scratch, 0)
                _passed = 0
            os.dup2(_scratch, 2)
            _saved_fd = saved
        _depth += 1
        return True


def _leave() -> None:
    global _depth, _saved_fd, _left_at
    with _lock:
        _depth -= 1
        if _depth:
            return
        if _same_file(2, _scratch):
            os.dup2(_saved_fd, 2)
        # else something else pointed fd 2 elsewhere meanwhile (a test runner capturing
        # output): theirs now, and not ours to undo
        os.close(_saved_fd)
        _saved_fd = -1
        _left_at = time.monotonic()
        _pass_on(_read_on())


@atexit.register
def _at_exit() -> None:
    """A late line still in the scratch file comes out before the process ends."""
    with _lock:
        if _scratch >= 0 and _depth == 0:
            _pass_on(_read_on())


def _read_on() -> bytes:
    """What reached the scratch file since it was last read (a late write goes on at its
    end: the file is opened for appending)."""
    global _passed
    chunks = []
    while chunk := os.pread(_scratch, 1 << 16, _passed):
        chunks.append(chunk)
        _passed += len(chunk)
    return b"".join(chunks)


def _pass_on(held: bytes) -> None:
    kept = b"".join(line for line in held.splitlines(keepends=True) if not NOISE.match(line))
    while kept:
        try:
            written = os.write(2, kept)
        except OSError:  # stderr closed under us: nothing to tell anyone
            return
        kept = kept[written:]


def _same_file(a: int, b: int) -> bool:
    try:
        first, second = os.fstat(a), os.fstat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _scratch_file() -> int:
    """An unnamed temporary file opened for appending: each write lands whole at its end
    whichever thread makes it (a file from memfd_create is no good here: Linux does not
    serialise two threads' writes through one of its descriptors, and they overwrite)."""
    fd, path = tempfile.mkstemp(prefix="transcribe-stderr-")
    try:
        return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    finally:
        os.close(fd)
        os.unlink(path)
