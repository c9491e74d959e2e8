"""`Transcript`: a transcription document as typed objects, DataFrames and subtitles.

The document is `transcribe.document.TranscriptionDocument` (exactly what
`transcription_url` returns). DataFrames put times in seconds and carry the call's name,
the channel number and the channel's label (`speaker`), so the frames of many calls can be
concatenated and grouped. pandas is an optional extra: `pip install 'transcribe[notebook]'`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.document import Sentence, TranscriptionDocument
from transcribe.exports import export

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Transcript:
    """One call's transcript. `labels[i]` names channel i ("Channel 1", ... unless given)."""

    document: TranscriptionDocument
    name: str = ""
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or self.document.request_id
        given = len(self.labels)
        self.labels = [*self.labels, *(f"Channel {i + 1}" for i in range(given, self.channels))]

    @classmethod
    def from_json(
        cls,
        data: bytes | str | Mapping[str, Any],
        recording_uuid: str | None = None,
        labels: Sequence[str] = (),
    ) -> Transcript:
        """From the JSON of `transcription_url` (bytes, text or already parsed)."""
        parsed = json.loads(data) if isinstance(data, bytes | str) else data
        document = TranscriptionDocument.model_validate(parsed)
        return cls(document, name=recording_uuid or "", labels=list(labels))

    @classmethod
    def from_file(cls, path: str | Path, labels: Sequence[str] = ()) -> Transcript:
        """From a saved document; the call is named after the file."""
        path = Path(path)
        return cls.from_json(path.read_bytes(), recording_uuid=path.stem, labels=labels)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.document.model_dump_json(indent=1))
        return path

    @property
    def channels(self) -> int:
        return len(self.document.channels)

    @property
    def duration(self) -> float:
        """Seconds: the longest channel's audio."""
        return max((c.duration for c in self.document.channels), default=0.0)

    def iter_sentences(self) -> Iterator[tuple[int, int, Sentence]]:
        """(channel, index in the channel's transcript, sentence) for every sentence."""
        for channel, content in enumerate(self.document.channels):
            for index, sentence in enumerate(content.transcript):
                yield channel, index, sentence

    # DataFrames

    def words(self) -> pd.DataFrame:
        """One row per word: call, channel, speaker, sentence, word, start, end, confidence."""
        rows = [
            {
                **self._where(channel, index),
                "word": w.word,
                "start": w.start_time / 1000,
                "end": w.end_time / 1000,
                "confidence": w.confidence,
            }
            for channel, index, sentence in self.iter_sentences()
            for w in sentence.words
        ]
        return _frame(rows, ["word", "start", "end", "confidence"])

    def sentences(self) -> pd.DataFrame:
        """One row per sentence, in time order, with its analytics and mean word confidence;
        `sentiment` is NaN unless the transcription was asked for it."""
        rows = [
            {
                **self._where(channel, index),
                "text": s.sentence,
                "start": s.timestamp / 1000,
                "end": (s.timestamp + s.duration) / 1000,
                "words": len(s.words),
                "confidence": sum(w.confidence for w in s.words) / max(1, len(s.words)),
                "questions": list(s.questions),
                "action_items": list(s.action_items),
                "answers": list(s.answers),
                "sentiment": math.nan if s.sentiment is None else s.sentiment,
            }
            for channel, index, s in self.iter_sentences()
        ]
        columns = ["text", "start", "end", "words", "confidence"]
        frame = _frame(rows, [*columns, "questions", "action_items", "answers", "sentiment"])
        return frame.sort_values(["start", "channel"], ignore_index=True)

    def qa_pairs(self) -> pd.DataFrame:
        """One row per answered question: who asked, what, when; who answered, what, when."""
        rows = []
        for pair in self.document.qa_pairs:
            question = self._sentence(pair.question.channel, pair.question.sentence)
            answer = self._sentence(pair.answer.channel, pair.answer.sentence)
            rows.append(
                {
                    "call": self.name,
                    "question_channel": pair.question.channel,
                    "question_speaker": self.labels[pair.question.channel],
                    "question": pair.question.text,
                    "question_start": question.timestamp / 1000,
                    "answer_channel": pair.answer.channel,
                    "answer_speaker": self.labels[pair.answer.channel],
                    "answer": pair.answer.text,
                    "answer_start": answer.timestamp / 1000,
                }
            )
        frame: pd.DataFrame = _pandas().DataFrame(
            rows,
            columns=[
                "call", "question_channel", "question_speaker", "question", "question_start",
                "answer_channel", "answer_speaker", "answer", "answer_start",
            ],
        )  # fmt: skip
        return frame

    def action_items(self) -> pd.DataFrame:
        """One row per action item, with who said it and when."""
        rows = [
            {**self._where(channel, index), "start": s.timestamp / 1000, "action_item": item}
            for channel, index, s in self.iter_sentences()
            for item in s.action_items
        ]
        frame = _frame(rows, ["start", "action_item"])
        return frame.sort_values("start", ignore_index=True)

    # Subtitles and text, sentences of all channels in time order, each with its label

    def to_srt(self) -> str:
        return export(self.document, "srt", self.labels)

    def to_vtt(self) -> str:
        return export(self.document, "vtt", self.labels)

    def to_text(self) -> str:
        return export(self.document, "txt", self.labels)

    def _where(self, channel: int, index: int) -> dict[str, Any]:
        return {
            "call": self.name,
            "channel": channel,
            "speaker": self.labels[channel],
            "sentence": index,
        }

    def _sentence(self, channel: int, index: int) -> Sentence:
        return self.document.channels[channel].transcript[index]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame: pd.DataFrame = _pandas().DataFrame(
        rows, columns=["call", "channel", "speaker", "sentence", *columns]
    )
    return frame


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("DataFrames need pandas: pip install 'transcribe[notebook]'") from exc
    return pandas
