"""Call statistics on transcripts: who talked how much, over whom, and where nobody did.

Talk is measured in turns: a channel's words joined while the pause between them is under
`join_gap_s` (1 s). Talk time is the sum of a channel's turns, overlap is where turns of
different channels intersect, and a silence is a gap of at least `min_silence_s` between
the first and the last word of the call in which no channel has a turn. Needs pandas
(`pip install 'transcribe[notebook]'`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from transcribe.client.transcript import Transcript

JOIN_GAP_S = 1.0
MIN_SILENCE_S = 3.0
LOW_CONFIDENCE = 0.5


def turns(transcript: Transcript, join_gap_s: float = JOIN_GAP_S) -> pd.DataFrame:
    """One row per turn: call, channel, speaker, start, end, words (seconds)."""
    words = transcript.words().sort_values(["channel", "start"])
    rows: list[dict[str, object]] = []
    for (channel, speaker), group in words.groupby(["channel", "speaker"], sort=True):
        merged: list[list[float]] = []  # [start, end, words]
        for start, end in zip(group["start"], group["end"], strict=True):
            if merged and start - merged[-1][1] <= join_gap_s:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2] += 1
            else:
                merged.append([start, end, 1])
        rows += [
            {"call": transcript.name, "channel": channel, "speaker": speaker,
             "start": start, "end": end, "words": int(count)}
            for start, end, count in merged
        ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["call", "channel", "speaker", "start", "end", "words"])
    return frame.sort_values(["start", "channel"], ignore_index=True)


def talk_time(transcript: Transcript, join_gap_s: float = JOIN_GAP_S) -> pd.DataFrame:
    """Per channel (silent ones too): talk seconds, share of all talk, words, words/minute."""
    spoken = turns(transcript, join_gap_s)
    spoken["talk_s"] = spoken["end"] - spoken["start"]
    per_channel = spoken.groupby("channel")[["talk_s", "words"]].sum()
    frame = pd.DataFrame(
        {
            "call": transcript.name,
            "channel": range(transcript.channels),
            "speaker": transcript.labels,
        }
    )
    frame["talk_s"] = frame["channel"].map(per_channel["talk_s"]).fillna(0.0)
    frame["words"] = frame["channel"].map(per_channel["words"]).fillna(0).astype(int)
    total = frame["talk_s"].sum()
    frame["share"] = frame["talk_s"] / total if total > 0 else 0.0
    minutes = frame["talk_s"] / 60
    frame["words_per_minute"] = (frame["words"] / minutes.where(minutes > 0)).fillna(0.0)
    return frame


def overlaps(transcript: Transcript, join_gap_s: float = JOIN_GAP_S) -> pd.DataFrame:
    """Stretches where two or more channels talk at once: start, end, duration."""
    spoken = turns(transcript, join_gap_s)
    events = sorted(
        [(t, 1) for t in spoken["start"]] + [(t, -1) for t in spoken["end"]],
        key=lambda e: (e[0], e[1]),  # at a tie, a turn ends before the next one starts
    )
    rows = []
    active, since = 0, 0.0
    for at, change in events:
        if active == 1 and change == 1:
            since = at
        if active == 2 and change == -1 and at > since:
            rows.append({"start": since, "end": at, "duration": at - since})
        active += change
    return _intervals(transcript, rows)


def silences(
    transcript: Transcript, min_silence_s: float = MIN_SILENCE_S, join_gap_s: float = JOIN_GAP_S
) -> pd.DataFrame:
    """Gaps of at least `min_silence_s` in which nobody talks, between first and last word."""
    spoken = turns(transcript, join_gap_s).sort_values("start")
    rows = []
    talked_until: float | None = None
    for start, end in zip(spoken["start"], spoken["end"], strict=True):
        if talked_until is not None and start - talked_until >= min_silence_s:
            rows.append({"start": talked_until, "end": start, "duration": start - talked_until})
        talked_until = end if talked_until is None else max(talked_until, end)
    return _intervals(transcript, rows)


def low_confidence_words(transcript: Transcript, below: float = LOW_CONFIDENCE) -> pd.DataFrame:
    """The words the model was least sure of, least sure first."""
    words = transcript.words()
    return words[words["confidence"] < below].sort_values("confidence", ignore_index=True)


def summary(
    transcripts: Iterable[Transcript], min_silence_s: float = MIN_SILENCE_S
) -> pd.DataFrame:
    """One row per call: length, words, talk share per channel, overlap, silence, analytics."""
    rows = []
    for transcript in transcripts:
        talk = talk_time(transcript)
        words = transcript.words()
        sentences = transcript.sentences()
        quiet = silences(transcript, min_silence_s)
        row: dict[str, object] = {
            "call": transcript.name,
            "duration_s": transcript.duration,
            "channels": transcript.channels,
            "words": len(words),
            "mean_confidence": float(words["confidence"].mean()) if len(words) else None,
            "words_per_minute": _overall_rate(talk),
            "overlap_s": float(overlaps(transcript)["duration"].sum()),
            "longest_silence_s": float(quiet["duration"].max()) if len(quiet) else 0.0,
            "questions": int(sentences["questions"].map(len).sum()),
            "answered": len(transcript.document.qa_pairs),
            "action_items": int(sentences["action_items"].map(len).sum()),
        }
        for speaker, share in zip(talk["speaker"], talk["share"], strict=True):
            row[f"share {speaker}"] = float(share)
        rows.append(row)
    return pd.DataFrame(rows)


def _intervals(transcript: Transcript, rows: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["start", "end", "duration"])
    frame.insert(0, "call", transcript.name)
    return frame


def _overall_rate(talk: pd.DataFrame) -> float:
    minutes = float(talk["talk_s"].sum()) / 60
    return float(talk["words"].sum()) / minutes if minutes > 0 else 0.0
