"""The analytics step: a transcription document in, the same document with its questions,
answers, action items and question-answer pairs filled in out.

Every sentence of every channel is parsed once, in batches through `nlp.pipe`; questions and
action items are read from each sentence on its own, and answers from the call's timeline
across channels. Re-running it replaces what an earlier run filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from transcribe.analytics.actions import find_action_items
from transcribe.analytics.answers import Said, answer_part, link_answers
from transcribe.analytics.pipeline import load_pipeline
from transcribe.analytics.questions import find_questions
from transcribe.analytics.text import char_span
from transcribe.document import QAPair, SentenceRef, TranscriptionDocument

DEFAULT_BATCH_SIZE = 256


@dataclass(frozen=True)
class SentenceAnalysis:
    """What one sentence says on its own: its questions, action items, and the part of it
    that would answer a question asked just before (None if it says nothing)."""

    questions: list[str]
    action_items: list[str]
    answer: str | None


class Analyzer:
    """Holds the spaCy pipeline (loaded once per process) and applies the rules."""

    def __init__(self, nlp: Language | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.nlp = nlp if nlp is not None else load_pipeline()
        self.batch_size = batch_size

    def analyze(self, document: TranscriptionDocument) -> TranscriptionDocument:
        """A copy of `document` with the three lists of every sentence and `qa_pairs` filled.

        The copy has its own channels and sentences but shares the (unchanged) word objects
        with `document`: a deep copy of every word cost a sixth of the step's time."""
        out = document.model_copy(
            update={
                "channels": [
                    channel.model_copy(
                        update={"transcript": [s.model_copy() for s in channel.transcript]}
                    )
                    for channel in document.channels
                ]
            }
        )
        located = [
            (c, s, sentence)
            for c, channel in enumerate(out.channels)
            for s, sentence in enumerate(channel.transcript)
        ]
        analyses = self.analyze_texts(sentence.sentence for _, _, sentence in located)
        timeline = []
        for (c, s, sentence), analysis in zip(located, analyses, strict=True):
            sentence.questions = analysis.questions
            sentence.action_items = analysis.action_items
            sentence.answers = []
            timeline.append(
                Said(
                    channel=c,
                    index=s,
                    start_ms=sentence.timestamp,
                    end_ms=sentence.timestamp + sentence.duration,
                    question=analysis.questions[-1] if analysis.questions else None,
                    answer=analysis.answer,
                )
            )
        out.qa_pairs = []
        for link in link_answers(timeline, mono=len(out.channels) == 1):
            answer = link.answer
            assert answer.answer is not None and link.question.question is not None
            out.channels[answer.channel].transcript[answer.index].answers.append(answer.answer)
            out.qa_pairs.append(
                QAPair(
                    question=SentenceRef(
                        channel=link.question.channel,
                        sentence=link.question.index,
                        text=link.question.question,
                    ),
                    answer=SentenceRef(
                        channel=answer.channel, sentence=answer.index, text=answer.answer
                    ),
                )
            )
        return out

    def analyze_texts(self, texts: Iterable[str]) -> list[SentenceAnalysis]:
        """Each sentence on its own (no answers: those need the call around them)."""
        return [analyze_sentence(doc) for doc in self.nlp.pipe(texts, batch_size=self.batch_size)]


def analyze_sentence(doc: Doc) -> SentenceAnalysis:
    questions = find_questions(doc)
    actions = find_action_items(doc, questions)
    answer = answer_part(doc, questions)
    return SentenceAnalysis(
        questions=_texts(doc, questions),
        action_items=_texts(doc, actions),
        answer=_texts(doc, [answer])[0] if answer is not None else None,
    )


def _texts(doc: Doc, ranges: Sequence[tuple[int, int]]) -> list[str]:
    out = []
    for start, end in ranges:
        first, last = char_span(doc, start, end)
        out.append(doc.text[first:last])
    return out
