"""Framing shared by the worker and its host: a 4-byte big-endian length, then a codec message.

The host reads a frame straight into one buffer of its announced size, after checking that size
against its cap, so a reply costs the grader its own size once and a reply over the cap costs it
nothing (see `FrameTooLarge`).
"""

from __future__ import annotations

import os
import struct

MAX_FRAME = 1 << 30
CHUNK = 1 << 20


class FrameTooLarge(ValueError):
    """The worker announced a frame larger than the host accepts; `size` is what it announced."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the limit of {cap} bytes")
        self.size = size
        self.cap = cap


class NotAFrame(ValueError):
    """Bytes that are not a frame: something other than the worker wrote to its channel."""


class FrameReader:
    """Reads frames from a pipe: the header first, then the body into a buffer of its size.

    A length over the cap is judged by the four bytes after it: a message's magic means a reply
    too large (FrameTooLarge), anything else bytes that are no frame at all (NotAFrame).
    """

    def __init__(self, cap: int = MAX_FRAME, magic: bytes = b"MLC1") -> None:
        self.cap = cap
        self.magic = magic
        self.header = bytearray()
        self.body: bytearray | None = None
        self.filled = 0
        self.ready: list[bytearray] = []

    def read_from(self, fd: int) -> bool:
        """One read from `fd` into the frame being received; False at end of file.

        Raises FrameTooLarge as soon as a header announces more than the cap.
        """
        if self.body is None:
            wanted = 4 if len(self.header) < 4 else 4 + len(self.magic)
            data = os.read(fd, wanted - len(self.header))
            if not data:
                return False
            self.header += data
            if len(self.header) < 4:
                return True
            (size,) = struct.unpack(">I", self.header[:4])
            if size > self.cap:
                if len(self.header) < 4 + len(self.magic):
                    return True  # read the magic too, to tell a large reply from garbage
                if self.header[4:] != self.magic:
                    raise NotAFrame("bytes that are not a message")
                raise FrameTooLarge(size, self.cap)
            self.body, self.filled = bytearray(size), 0
            self._complete()
            return True
        view = memoryview(self.body)[self.filled : self.filled + CHUNK]
        count = os.readv(fd, [view])
        view.release()
        if not count:
            return False
        self.filled += count
        self._complete()
        return True

    def _complete(self) -> None:
        if self.body is not None and self.filled == len(self.body):
            self.ready.append(self.body)
            self.header, self.body, self.filled = bytearray(), None, 0

    def next_frame(self) -> bytearray | None:
        """The oldest complete frame, handed over (the reader keeps no reference to it)."""
        return self.ready.pop(0) if self.ready else None


def write_frame(fd: int, payload: bytes) -> None:
    if len(payload) > MAX_FRAME:
        raise ValueError(f"message of {len(payload)} bytes exceeds the {MAX_FRAME} byte limit")
    _write_all(fd, struct.pack(">I", len(payload)))
    _write_all(fd, memoryview(payload))


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int) -> bytes | None:
    """Blocking read of one frame (worker side); None at end of file."""
    header = _read_exact(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ValueError("frame too large")
    return _read_exact(fd, size)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
