"""Turning a transcription document into subtitles or plain text, channels labelled.

Sentences of all channels are merged in time order, so a two-party call reads as a dialogue:
each cue or line carries its channel label ("Channel 1: ...", or names the caller passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from transcribe.document import TranscriptionDocument

ExportFormat = Literal["txt", "srt", "vtt"]


@dataclass(frozen=True)
class Cue:
    channel: int
    start_ms: int
    end_ms: int
    text: str


def cues(doc: TranscriptionDocument) -> list[Cue]:
    """Every sentence of every channel as a cue, in order of start time (then channel)."""
    out = [
        Cue(channel=i, start_ms=s.timestamp, end_ms=s.timestamp + s.duration, text=s.sentence)
        for i, ch in enumerate(doc.channels)
        for s in ch.transcript
    ]
    return sorted(out, key=lambda c: (c.start_ms, c.channel))


def export(
    doc: TranscriptionDocument, fmt: ExportFormat, labels: Sequence[str] | None = None
) -> str:
    """Render `doc` as `txt`, `srt` or `vtt`; `labels[i]` names channel i."""
    names = list(labels or [])
    names += [f"Channel {i + 1}" for i in range(len(names), len(doc.channels))]
    items = cues(doc)
    if fmt == "txt":
        return "".join(f"[{_clock(c.start_ms, '.')}] {names[c.channel]}: {c.text}\n" for c in items)
    if fmt == "srt":
        return "\n".join(
            f"{n}\n{_clock(c.start_ms, ',')} --> {_clock(c.end_ms, ',')}\n"
            f"{names[c.channel]}: {c.text}\n"
            for n, c in enumerate(items, start=1)
        )
    if fmt == "vtt":
        body = "\n".join(
            f"{_clock(c.start_ms, '.')} --> {_clock(c.end_ms, '.')}\n"
            f"<v {names[c.channel]}>{c.text}\n"
            for c in items
        )
        return "WEBVTT\n\n" + body
    raise ValueError(f"unknown export format {fmt!r}")


def _clock(ms: int, sep: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"
