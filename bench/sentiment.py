"""Benchmark: sentence sentiment on labelled call sentences.

Prints 3-class accuracy, macro-F1 and sign accuracy for the held-out half of
tests/data/sentiment/calls.tsv (never looked at while the rules were written), for its
examples half (the rules were tuned on it) and for the 40 shared examples of
../shared/data/sentiment (also looked at while tuning); then sentences per second on one
core, and VADER alone on the held-out half for comparison; with `--errors`, the examples
half's misses (never the held-out half's).

Classes from a score: positive above `NEUTRAL_BAND`, negative below -`NEUTRAL_BAND`,
neutral between. Sign accuracy counts, over the sentences labelled positive or negative,
those whose score has the right sign (> 0 or < 0). Run: `.venv/bin/python bench/sentiment.py`.
"""

from __future__ import annotations

import os

# One core: pin the process before anything starts threads.
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse
import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from transcribe.sentiment.scorer import NEUTRAL_BAND, SentimentScorer

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "tests" / "data" / "sentiment" / "calls.tsv"
SHARED = ROOT.parent / "shared" / "data" / "sentiment" / "examples.tsv"
CLASSES = ("positive", "negative", "neutral")
HELD = "held-out half"
TARGET_SIGN_ACCURACY = 0.85
TARGET_MACRO_F1 = 0.70


@dataclass(frozen=True)
class Labelled:
    id: str
    label: str
    text: str


@dataclass(frozen=True)
class Figures:
    sentences: int
    accuracy: float
    macro_f1: float
    sign_accuracy: float
    f1: dict[str, float]


def load(path: Path, half: str | None = None) -> list[Labelled]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Labelled(r["id"], r["label"], r["text"]) for r in rows if half is None or r["half"] == half
    ]


def label_of(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def figures(score: Callable[[str], float], items: list[Labelled]) -> Figures:
    scores = [score(item.text) for item in items]
    predicted = [label_of(s) for s in scores]
    correct = sum(p == item.label for p, item in zip(predicted, items, strict=True))
    f1: dict[str, float] = {}
    for cls in CLASSES:
        tp = sum(p == cls and i.label == cls for p, i in zip(predicted, items, strict=True))
        fp = sum(p == cls and i.label != cls for p, i in zip(predicted, items, strict=True))
        fn = sum(p != cls and i.label == cls for p, i in zip(predicted, items, strict=True))
        f1[cls] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    polar = [(s, i.label) for s, i in zip(scores, items, strict=True) if i.label != "neutral"]
    signs = sum((s > 0) == (label == "positive") and s != 0 for s, label in polar)
    return Figures(
        sentences=len(items),
        accuracy=correct / len(items),
        macro_f1=sum(f1.values()) / len(CLASSES),
        sign_accuracy=signs / len(polar),
        f1=f1,
    )


def sentences_per_second(scorer: SentimentScorer, texts: list[str], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in texts:
            scorer.score(text)
        done += len(texts)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the examples half's misses")
    args = parser.parse_args()

    started = time.perf_counter()
    scorer = SentimentScorer()
    build_ms = (time.perf_counter() - started) * 1000
    sets = {
        HELD: load(CALLS, "heldout"),
        "examples half (tuned on)": load(CALLS, "examples"),
        "shared 40 (looked at)": load(SHARED),
    }
    print(f"{'set':<27} {'n':>4} {'3-class acc':>12} {'macro-F1':>9} {'sign acc':>9}  F1 +/-/0")
    vader = SentimentIntensityAnalyzer()
    runs: list[tuple[str, Callable[[str], float], list[Labelled]]] = [
        (name, scorer.score, items) for name, items in sets.items()
    ]
    runs.append(
        ("VADER alone, held-out", lambda t: vader.polarity_scores(t)["compound"], sets[HELD])
    )
    for name, score, items in runs:
        fig = figures(score, items)
        per_class = "/".join(f"{fig.f1[c]:.2f}" for c in CLASSES)
        print(
            f"{name:<27} {fig.sentences:>4} {fig.accuracy:>12.3f} {fig.macro_f1:>9.3f} "
            f"{fig.sign_accuracy:>9.3f}  {per_class}"
        )
    held = figures(scorer.score, sets[HELD])
    print(
        f"targets on the held-out half: sign accuracy >= {TARGET_SIGN_ACCURACY} "
        f"({'met' if held.sign_accuracy >= TARGET_SIGN_ACCURACY else 'NOT met'}), "
        f"macro-F1 >= {TARGET_MACRO_F1} "
        f"({'met' if held.macro_f1 >= TARGET_MACRO_F1 else 'NOT met'})"
    )
    texts = [i.text for items in sets.values() for i in items]
    rate = sentences_per_second(scorer, texts, seconds=3.0)
    print(f"speed: {rate:,.0f} sentences/s on one core (scorer built in {build_ms:.0f} ms)")

    if args.errors:
        print("\nexamples half, misses:")
        for item in sets["examples half (tuned on)"] + sets["shared 40 (looked at)"]:
            value = scorer.score(item.text)
            if label_of(value) != item.label:
                print(f"  {item.id} {item.label:<8} {value:+.3f}  {item.text}")


if __name__ == "__main__":
    main()
