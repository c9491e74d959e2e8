"""Benchmark: the analytics step on the labelled calls of tests/data/calls.

Prints precision, recall and F1 of `questions`, `action_items` and `answers` (and of the
`qa_pairs` links) for the punctuated and the unpunctuated form of the calls, for the calls
the rules were tuned on (dev), the calls never looked at while tuning (heldout), and all;
then words per second of `Analyzer.analyze` on one core.

Matching rule (see bench/evaluation.py): a predicted span matches a gold span of
the same list in the same sentence when they share at least half of the words of each;
matches are one to one. A qa_pair matches when both its question and its answer sentence
(channel and index) are right. Run: `.venv/bin/python bench/analytics.py`.
"""

from __future__ import annotations

import os

# One core: pin the process and keep the numeric libraries to a single thread. This must
# happen before numpy and spaCy are imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from transcribe.analytics import Analyzer  # noqa: E402

from evaluation import (  # noqa: E402
    LISTS,
    LabelledCall,
    Report,
    Score,
    load_calls,
    score_call,
)

CALLS_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "calls"
TARGETS = {
    ("questions", "punctuated"): 0.95,
    ("questions", "unpunctuated"): 0.85,
    ("action_items", "punctuated"): 0.85,
    ("answers", "punctuated"): 0.85,
}
TARGET_WORDS_PER_SECOND = 5000


def evaluate(analyzer: Analyzer, calls: list[LabelledCall], unpunctuated: bool) -> Report:
    report = Report()
    for call in calls:
        form = call.unpunctuated() if unpunctuated else call
        score_call(form, analyzer.analyze(form.document()), report)
    return report


def words_per_second(analyzer: Analyzer, calls: list[LabelledCall], rounds: int) -> float:
    """Throughput of the whole step (parse, rules, answer linking) over both forms."""
    documents = [c.document() for c in calls] + [c.unpunctuated().document() for c in calls]
    words = sum(len(s.words) for d in documents for ch in d.channels for s in ch.transcript)
    analyzer.analyze(documents[0])  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        for document in documents:
            analyzer.analyze(document)
    return rounds * words / (time.perf_counter() - started)


def _row(label: str, score: Score) -> str:
    return (
        f"  {label:<13} P {score.precision:5.3f}  R {score.recall:5.3f}  F1 {score.f1:5.3f}"
        f"   (tp {score.tp}, fp {score.fp}, fn {score.fn})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the calls when timing")
    parser.add_argument("--mistakes", action="store_true", help="list every miss and extra")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    splits = {name: load_calls(CALLS_DIR / name) for name in ("dev", "heldout")}
    splits["all"] = splits["dev"] + splits["heldout"]
    started = time.perf_counter()
    analyzer = Analyzer()
    print(f"spaCy pipeline loaded in {time.perf_counter() - started:.2f} s")
    for name, calls in splits.items():
        sentences = sum(len(c.sentences) for c in calls)
        print(f"\n== {name}: {len(calls)} calls, {sentences} sentences")
        for unpunctuated in (False, True):
            form = "unpunctuated" if unpunctuated else "punctuated"
            report = evaluate(analyzer, calls, unpunctuated)
            print(f" {form} ({report.words} words)")
            for list_name in LISTS:
                score = report.scores[list_name]
                target = TARGETS.get((list_name, form))
                mark = "" if target is None else f"   target F1 >= {target:.2f}"
                if target is not None:
                    mark += "  met" if score.f1 >= target else "  MISSED"
                print(_row(list_name, score) + mark)
            print(_row("qa_pairs", report.pairs))
            if args.mistakes and name != "all":
                for m in report.mistakes:
                    print(f"    {m.kind:6} {m.list_name:12} {m.span!r} | {m.sentence}")
    rate = words_per_second(analyzer, splits["all"], args.rounds)
    verdict = "met" if rate >= TARGET_WORDS_PER_SECOND else "MISSED"
    print(
        f"\nthroughput on one core: {rate:,.0f} words/s "
        f"(target >= {TARGET_WORDS_PER_SECOND:,}: {verdict})"
    )


if __name__ == "__main__":
    main()
