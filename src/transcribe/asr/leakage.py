"""The leakage gate: a channel's copy of another channel's party is not that channel's speech.

Split and multichannel recordings leak: a headset or handset hears the far end from its own
earpiece, so each channel also carries the other party, attenuated and a little late. Silero
VAD finds that leaked speech, Whisper transcribes it, and the other party's words land on the
wrong channel too (bench/leakage.py: 114 of them in 3 minutes at -20 dB). The gate uses the
other channels of the same recording to tell leakage from speech, before recognition (which
stretches of a channel are decoded) and after it (which words are kept).

Finding the leak paths. Each channel is reduced to its 10 ms frame levels (dB, as
`timing.frame_levels`), small enough to hold for every channel of a long file (1.4 MB per
channel-hour). For each ordered pair of channels (i hears j) and each delay of 0 to
`MAX_DELAY_S`, the differences `level_i(t + delay) - level_j(t)` over j's loud frames are
collected. Where i carries only j's leak, the difference is the leak's gain, the same frame
after frame however loud j is, so the differences pile up at one value; where i is silent or
talks on its own they spread as j's level does. (This is the cross-correlation of the two
energy envelopes over j's speech, in the log domain, where a scaled copy is a constant offset.)
The delay with the sharpest pile-up wins, and the path is leakage when at least `MIN_SHARE` of
the differences lie within `PEAK_DB` of the peak, the frames in the peak span a wide range of
j's levels (`MIN_TRACK_DB`: i follows j up and down, not one level by chance), and the gain is
at most `MAX_GAIN_DB` (a louder copy is one source on two channels, a mono source in stereo,
and both channels are kept). Channels that do not leak get no gate at all: their transcription
is exactly what it is with the gate off.

Leaked frames. A frame of sound on channel i is leaked when it is quieter than halfway, in dB,
between the leak a path predicts (its gain over the loudest of the source's frames around the
delay, so a delay between two frames is covered) and the source's own level. Two parties
talking at once at similar levels stay above that line (by half the attenuation: 10 dB at
-20 dB), the leak stays below it. When the channels are decoded together (a recording that
fits `audio_memory_mb` in one group: in memory, or a call of up to about an hour), each path
is also found to the sample by cross-correlating the two waveforms over stretches of pure
leak (`_echo`), and the channel less its echoes (`residual_levels`) tells the rest apart: a
frame is leaked only where subtracting the echo takes at least `EXPLAINED_DB` off it. So a
party's quiet word under the other's louder speech, below the line but not explained by the
echo, stays its own. A file read a few channels at a time gets its levels from one streamed
decode of all channels (`_streamed_levels`; reading it group by group would decode it once
per group) and the level line alone.

Subtracting the echo. The gate cannot take the leak out from under a party's own speech (both
talking): Whisper hears it there, and it changes words nearby. So when the channels are held
together, the echoes found to the sample are subtracted from the channel that Silero VAD and
Whisper are given (`channel[t] - gain * source[t - delay]`, `subtract_echoes`), but only where
that single-tap model is shown to explain the leak: on the stretches of pure leak the echo was
found on, the subtraction must take at least `MIN_ERLE_DB` off a quarter of them or more (its
echo return loss enhancement, ERLE; an exact digital copy gives 40 dB or more, a filtered path
0 to 6 dB). A real echo path that is filtered or reverberant is not one tap, is explained by it
only in part (a few dB), and subtracting it would add a negative copy of the source: that
channel is left as it is, and the gate alone applies. What was decided is logged for each echo.
The subtraction goes a minute at a time from the sources' original samples, in place in a
file's decoded channels (a channel of audio in memory is the caller's, and is copied first).
The source carries the channel's leak in turn, so a faint negative echo of the channel's own
speech is left, twice the delay late and `2 * gain_db` quieter (-40 dB at -20 dB); the other
party is gone. The gate's masks are measured on the channels as they were; with the echo
subtracted its leaked stretches are near silence anyway. Mono files, channels with no leak, and
files read in several groups (no echoes) are decoded as they are.

The gate. Sound that is not leaked is the channel's own speech, padded by `PAD_S` each side.
Leaked stretches away from own speech, of at least `MIN_GATE_S`, are cut out of the VAD
regions before decoding, and a part of a region with no own speech left in it is dropped; so
Whisper never hears a turn of the other party alone. Leak under the party's own speech (both
talking) stays in, unless subtracted, and a decoded word is dropped when nearly all of it
(`WORD_LEAKED`) lies in leaked sound with no own speech within `PAD_S`: a word Whisper took
from that leak.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

import numpy as np
import numpy.typing as npt

from transcribe.asr.timing import FRAME_S, SILENCE_DB, frame_levels
from transcribe.audio import SAMPLE_RATE, AudioFile, ChannelSource, Decoded, FloatArray
from transcribe.document import TimedWord
from transcribe.errors import InvalidAudioError

log = logging.getLogger(__name__)

Levels = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

MAX_DELAY_S = 0.1
# A copy louder than this is not leakage: the same source on two channels, kept on both.
MAX_GAIN_DB = -4.0
# Where the differences pile up: at least this share of them within PEAK_DB of the peak.
PEAK_DB = 2.0
MIN_SHARE = 0.4
# ... and j's level across the frames of the pile-up varies by at least this (std, dB).
MIN_TRACK_DB = 3.0
# j's loud frames: within LOUD_DB of its 95th-percentile level, and this far over its floor.
LOUD_DB = 20.0
# A frame is sound when it is this far above the channel's floor (as in timing.py).
ABOVE_FLOOR_DB = 12.0
FLOOR_PERCENTILE = 5
# At most this many of j's loud frames are used to find a path (evenly spread).
MAX_FRAMES = 20_000
# Own speech is padded this much each side; own runs shorter than MIN_OWN_S are not speech.
PAD_S = 0.1
MIN_OWN_S = 0.05
# With both channels' samples at hand: a frame is leaked only when the leak, subtracted, takes
# at least this much off its level (explains more than half its energy).
EXPLAINED_DB = 3.0
SEGMENT = 1024  # samples per segment cross-correlated to find a path's delay to the sample
MAX_SEGMENTS = 400
_MAX_LAG = round((MAX_DELAY_S + 2 * FRAME_S) * SAMPLE_RATE)
_CHUNK_FRAMES = 6_000
# An echo is subtracted from its channel when that takes at least this off the pure leak it
# was found on (ERLE): a single tap then explains the leak, which comes out at least 10 dB
# quieter (-20 dB to -30 dB or less); a filtered, reverberant path is explained by one tap
# only in part (a few dB), and subtracting it would add a negative copy of the source.
MIN_ERLE_DB = 10.0
ERLE_PERCENTILE = 75  # of the segments' ERLE (see `_echo`)
MAX_ERLE_DB = 60.0  # an exact digital copy: reported as this
_SUBTRACT_SAMPLES = 60 * SAMPLE_RATE  # a minute of every channel at a time
# Gated stretches shorter than this are left in the regions.
MIN_GATE_S = 0.15
# A word is leakage when at least this share of its frames is leaked, and no own speech is
# within PAD_S of it.
WORD_LEAKED = 0.9


@dataclass(frozen=True)
class Path:
    """Channel `source` heard on another channel `delay` frames late, `gain_db` quieter."""

    source: int
    delay: int  # frames
    gain_db: float
    share: float  # of the differences in the peak


@dataclass(frozen=True)
class Echo:
    """A path to the sample: channel `source` heard `delay` samples late, times `gain`;
    `erle_db`: how much subtracting it takes off the stretches of pure leak it was found on
    (echo return loss enhancement, the upper quartile over those stretches)."""

    source: int
    delay: int  # samples
    gain: float
    erle_db: float = 0.0

    @property
    def subtracted(self) -> bool:
        """The single tap explains the leak (MIN_ERLE_DB): the channel is decoded less it."""
        return self.erle_db >= MIN_ERLE_DB


@dataclass(frozen=True)
class Gate:
    """A channel's leaked frames, and the frames of its own speech, at FRAME_S."""

    paths: list[Path]
    leaked: Mask  # sound quieter than the predicted leak allows for own speech
    own: Mask  # the rest of the sound, runs shorter than MIN_OWN_S left out
    gated: Mask  # leaked, away from own speech: cut from the regions
    echoes: tuple[Echo, ...] = ()  # the paths to the sample, when the channels were held

    def regions(self, speech: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The speech regions (samples) less their gated stretches; parts with no own speech
        dropped."""
        step = round(FRAME_S * SAMPLE_RATE)
        out = []
        for start, end in speech:
            first, last = start // step, -(-end // step)
            gated = self.gated[first:last]
            keep = ~gated
            for a, b in _runs(keep):
                if not self.own[first + a : first + b].any():
                    continue
                out.append((max(start, (first + a) * step), min(end, (first + b) * step)))
        return out

    def words(self, words: list[TimedWord]) -> list[TimedWord]:
        """The words less those that lie in leaked sound with no own speech within PAD_S."""
        pad = round(PAD_S / FRAME_S)
        kept = []
        for word in words:
            first = min(int(word.start / FRAME_S), len(self.leaked) - 1)
            last = max(first + 1, int(np.ceil(word.end / FRAME_S)))
            leaked = float(self.leaked[first:last].mean())
            if leaked >= WORD_LEAKED and not self.own[max(0, first - pad) : last + pad].any():
                continue
            kept.append(word)
        return kept


def measure(
    audio: ChannelSource, groups: list[list[int]]
) -> tuple[list[Gate | None], Decoded | None]:
    """Each channel's gate (None: nothing leaks into it), and the channels decoded when they
    fit in one group (so they are not decoded twice); their samples refine the gates."""
    if audio.channels < 2:
        return [None] * audio.channels, None
    if len(groups) == 1:
        held = audio.read(groups[0])
        levels = [frame_levels(samples).astype(np.float32) for samples in held.channels]
        found = gates(levels, held.channels)
        return found, _without_echoes(audio, held, found)
    if isinstance(audio, AudioFile):
        return gates(_streamed_levels(audio)), None
    levels = []
    for group in groups:
        decoded = audio.read(group)
        levels.extend(frame_levels(samples).astype(np.float32) for samples in decoded.channels)
        del decoded
    return gates(levels), None


def _without_echoes(audio: ChannelSource, held: Decoded, found: list[Gate | None]) -> Decoded:
    """The held channels less the echoes that explain their leak (`Echo.subtracted`). A file's
    decoded channels are this transcription's own and change in place; the channels of audio
    in memory are the caller's samples, so one that changes is copied first."""
    echoes: list[list[Echo]] = []
    for channel, gate in enumerate(found):
        found_here = gate.echoes if gate is not None else ()
        for echo in found_here:
            log.info(
                "channel %d: channel %d's echo %d samples late, gain %.3f (%.1f dB), ERLE "
                "%.1f dB: %s",
                channel,
                echo.source,
                echo.delay,
                echo.gain,
                20 * np.log10(max(abs(echo.gain), 1e-10)),
                echo.erle_db,
                "subtracted" if echo.subtracted else f"not subtracted (under {MIN_ERLE_DB:.0f} dB)",
            )
        echoes.append([e for e in found_here if e.subtracted])
    if not any(echoes):
        return held
    channels = held.channels
    if not isinstance(audio, AudioFile):
        channels = [x.copy() if e else x for x, e in zip(channels, echoes, strict=True)]
    subtract_echoes(channels, echoes)
    return Decoded(channels, held.damage)


def subtract_echoes(channels: list[FloatArray], echoes: list[list[Echo]]) -> None:
    """Each channel less its `echoes`, in place: `channel[t] -= gain * source[t - delay]`,
    always from the source's original samples. A minute at a time: the sources' original
    samples of a chunk, with the `delay` before it (kept from the chunk before), are copied
    before any channel of the chunk changes, so no channel is copied whole."""
    sources = sorted({e.source for found in echoes for e in found})
    if not sources:
        return
    longest = max(e.delay for found in echoes for e in found)
    tails = {c: np.zeros(longest, np.float32) for c in sources}  # originals before the chunk
    length = max(len(x) for x in channels)
    for start in range(0, length, _SUBTRACT_SAMPLES):
        end = min(length, start + _SUBTRACT_SAMPLES)
        originals = {}  # channel c's original samples from start - longest to end
        for c in sources:
            span = np.zeros(longest + end - start, np.float32)
            span[:longest] = tails[c]
            chunk = channels[c][start:end]
            span[longest : longest + len(chunk)] = chunk
            originals[c] = span
        for channel, found in zip(channels, echoes, strict=True):
            target = channel[start:end]
            for echo in found:
                late = originals[echo.source][longest - echo.delay :][: len(target)]
                target -= np.float32(echo.gain) * late
        tails = {c: span[len(span) - longest :] for c, span in originals.items()}


def _streamed_levels(audio: AudioFile) -> list[Levels]:
    """Every channel's frame levels from one decode of the file, block by block (reading it
    a group at a time would decode it once per group: 32 times for a long 32-channel file).
    Damage part-way gives the levels up to there, as `AudioFile.read` gives the samples."""
    step = round(FRAME_S * SAMPLE_RATE)
    levels = np.empty((audio.channels, ceil(audio.duration / FRAME_S) + 1), np.float32)
    filled = 0
    carry = np.zeros((0, audio.channels), np.float32)
    try:
        for block in audio.blocks():
            block = np.concatenate([carry, block]) if len(carry) else block
            whole = len(block) // step
            frames = block[: whole * step].reshape(whole, step, -1).astype(np.float64)
            rms = np.sqrt((frames**2).mean(axis=1))  # as `frame_levels` computes it
            if filled + whole > levels.shape[1]:  # the header undercounted (MP3 VBR)
                more = max(whole, levels.shape[1] // 8)
                levels = np.concatenate([levels, np.empty((audio.channels, more), np.float32)], 1)
            levels[:, filled : filled + whole] = (20 * np.log10(rms + 1e-10)).T
            filled += whole
            carry = block[whole * step :]
    except InvalidAudioError:
        pass
    return list(levels[:, :filled])


def gates(levels: list[Levels], samples: list[FloatArray] | None = None) -> list[Gate | None]:
    """The gate of each channel from every channel's frame levels, and from the samples of
    every channel when they are at hand."""
    length = min(len(x) for x in levels)
    levels = [x[:length] for x in levels]
    floors = [_floor(x) for x in levels]
    loud = [_loud(x, floor) for x, floor in zip(levels, floors, strict=True)]
    out: list[Gate | None] = []
    for i, heard in enumerate(levels):
        paths = [
            path
            for j, source in enumerate(levels)
            if j != i
            for path in [_path(heard, source, loud[j], j)]
            if path is not None
        ]
        if not paths:
            out.append(None)
            continue
        for path in paths:
            log.info(
                "channel %d carries channel %d's speech %.0f dB quieter, %.0f ms late: "
                "gated as leakage",
                i,
                path.source,
                path.gain_db,
                path.delay * FRAME_S * 1000,
            )
        residual = None
        echoes: list[Echo] = []
        if samples is not None:
            found = [
                _echo(samples[i], samples[p.source], p, heard, levels[p.source], loud[p.source])
                for p in paths
            ]
            echoes = [e for e in found if e is not None]
            if len(echoes) == len(found):
                residual = residual_levels(samples, i, echoes, length)
        out.append(_gate(heard, floors[i], levels, paths, residual, echoes))
    return out


def _floor(levels: Levels) -> float:
    """The channel's noise floor: a low percentile of the frames that are not digital silence."""
    heard = levels[levels > SILENCE_DB]
    return max(float(np.percentile(heard, FLOOR_PERCENTILE)), SILENCE_DB) if len(heard) else 0.0


def _loud(levels: Levels, floor: float) -> npt.NDArray[np.intp]:
    """Indices of the channel's loud frames (see LOUD_DB), at most MAX_FRAMES evenly spread."""
    if not len(levels):
        return np.zeros(0, np.intp)
    top = float(np.percentile(levels, 95))
    frames = np.flatnonzero((levels >= top - LOUD_DB) & (levels >= floor + LOUD_DB))
    if len(frames) > MAX_FRAMES:
        frames = frames[np.linspace(0, len(frames) - 1, MAX_FRAMES).astype(np.intp)]
    return frames


def _peak3(levels: Levels) -> Levels:
    """Each frame's level or its neighbours', the loudest: a delay between frames is covered."""
    out = levels.copy()
    out[1:] = np.maximum(out[1:], levels[:-1])
    out[:-1] = np.maximum(out[:-1], levels[1:])
    return out


def _path(heard: Levels, source: Levels, loud: npt.NDArray[np.intp], j: int) -> Path | None:
    """The leak of `source` (channel j) into `heard`, if there is one (module docstring)."""
    peak = _peak3(source)
    best: Path | None = None
    for delay in range(round(MAX_DELAY_S / FRAME_S) + 1):
        frames = loud[loud + delay < len(heard)]
        if len(frames) < round(1.0 / FRAME_S):  # under a second of the source's speech
            return None
        differences = heard[frames + delay] - peak[frames]
        centre, share, inside = _pile_up(differences)
        if best is not None and share <= best.share:
            continue
        if centre > MAX_GAIN_DB or share < MIN_SHARE:
            continue
        if float(np.std(peak[frames][inside])) < MIN_TRACK_DB:
            continue
        best = Path(source=j, delay=delay, gain_db=centre, share=share)
    return best


def _pile_up(differences: Levels) -> tuple[float, float, Mask]:
    """Where most differences lie within PEAK_DB of one value: (that value, their share, which
    they are), by a histogram of 0.5 dB bins summed over the window."""
    step = 0.5
    low = float(np.floor(differences.min()))
    bins = np.floor((differences - low) / step).astype(np.intp)
    counts = np.bincount(bins)
    width = round(PEAK_DB / step)
    window = np.convolve(counts, np.ones(2 * width + 1), mode="same")
    centre = low + (int(np.argmax(window)) + 0.5) * step
    inside = np.abs(differences - centre) <= PEAK_DB
    return centre, float(inside.mean()), inside


def _echo(
    heard: FloatArray,
    source: FloatArray,
    path: Path,
    heard_levels: Levels,
    source_levels: Levels,
    loud: npt.NDArray[np.intp],
) -> Echo | None:
    """The path's delay to the sample and its gain, from the cross-correlation of the two
    waveforms over segments where the channel carries only the leak (the path's pile-up)."""
    step = round(FRAME_S * SAMPLE_RATE)
    frames = loud[loud + path.delay < len(heard_levels)]
    differences = heard_levels[frames + path.delay] - _peak3(source_levels)[frames]
    frames = frames[np.abs(differences - path.gain_db) <= PEAK_DB]
    frames = frames[(frames + 1) * step + SEGMENT + _MAX_LAG < len(heard)]
    if len(frames) == 0:
        return None
    if len(frames) > MAX_SEGMENTS:
        frames = frames[np.linspace(0, len(frames) - 1, MAX_SEGMENTS).astype(np.intp)]
    low, high = max(0, (path.delay - 1) * step), (path.delay + 2) * step
    size = 1 << int(np.ceil(np.log2(2 * SEGMENT + high)))
    starts = frames * step
    a = source[starts[:, None] + np.arange(SEGMENT)]
    b = heard[starts[:, None] + np.arange(SEGMENT + high)]
    spectrum = (np.conj(np.fft.rfft(a, size)) * np.fft.rfft(b, size)).sum(axis=0)
    correlation = np.fft.irfft(spectrum, size)[: high + 1]
    lag = low + int(np.argmax(np.abs(correlation[low:])))
    energy = float((a.astype(np.float64) ** 2).sum())
    if energy <= 0:
        return None
    gain = float(correlation[lag]) / energy
    # ERLE: each segment's energy before and after the subtraction, the upper quartile of the
    # ratio. Some segments picked by level hold the channel's own speech too (its level near
    # the leak's by chance, or a word starting within the segment), which no subtraction
    # explains: with the party talking most of the time, the median is such a segment.
    heard_part = b[:, lag : lag + SEGMENT].astype(np.float64)
    before = (heard_part**2).sum(axis=1)
    after = ((heard_part - gain * a.astype(np.float64)) ** 2).sum(axis=1)
    ratio = before / np.maximum(after, before * 10 ** (-MAX_ERLE_DB / 10) + 1e-30)
    erle = float(np.percentile(10 * np.log10(ratio + 1e-30), ERLE_PERCENTILE))
    return Echo(source=path.source, delay=lag, gain=gain, erle_db=erle)


def residual_levels(
    samples: list[FloatArray], channel: int, echoes: list[Echo], length: int
) -> Levels:
    """Frame levels (dB) of the channel less its echoes: what of it the leak does not explain.
    A minute at a time, so no copy of the channel is made."""
    step = round(FRAME_S * SAMPLE_RATE)
    out = np.empty(length, np.float32)
    for first in range(0, length, _CHUNK_FRAMES):
        last = min(length, first + _CHUNK_FRAMES)
        a, b = first * step, last * step
        chunk = samples[channel][a:b].copy()
        for echo in echoes:
            lo = max(a - echo.delay, 0)
            piece = samples[echo.source][lo : b - echo.delay]
            chunk[len(chunk) - len(piece) :] -= echo.gain * piece
        out[first:last] = frame_levels(chunk)
    return out


def _gate(
    heard: Levels,
    floor: float,
    levels: list[Levels],
    paths: list[Path],
    residual: Levels | None,
    echoes: Sequence[Echo] = (),
) -> Gate:
    """Leaked and own frames of a channel with the leak `paths` into it; with the `residual`,
    a frame the leak does not explain (by EXPLAINED_DB) is the channel's own."""
    line = np.full(len(heard), -np.inf, np.float32)  # halfway from the leak to its source
    for path in paths:
        shifted = np.full(len(heard), -np.inf, np.float32)
        source = _peak3(levels[path.source])
        shifted[path.delay :] = source[: len(heard) - path.delay] + path.gain_db / 2
        line = np.maximum(line, shifted)
    sound = heard >= floor + ABOVE_FLOOR_DB
    leaked = sound & (heard < line)
    if residual is not None:
        leaked &= residual <= heard - EXPLAINED_DB
    own = _drop_short(sound & ~leaked, round(MIN_OWN_S / FRAME_S))
    near_own = _widen(own, round(PAD_S / FRAME_S))
    gated = _drop_short(
        _widen(leaked, round(PAD_S / FRAME_S)) & ~near_own, round(MIN_GATE_S / FRAME_S)
    )
    return Gate(paths=paths, leaked=leaked, own=own, gated=gated, echoes=tuple(echoes))


def _runs(mask: Mask) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _drop_short(mask: Mask, frames: int) -> Mask:
    out = mask.copy()
    for a, b in _runs(mask):
        if b - a < frames:
            out[a:b] = False
    return out


def _widen(mask: Mask, frames: int) -> Mask:
    """Each True frame spread `frames` each side."""
    counts = np.cumsum(np.concatenate([[0], mask.astype(np.int32)]))
    index = np.arange(len(mask))
    low = np.maximum(index - frames, 0)
    high = np.minimum(index + frames + 1, len(mask))
    return np.asarray(counts[high] - counts[low] > 0)
