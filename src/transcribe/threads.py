"""How many threads of each kind run, decided in one place from the cores this process may use.

Three kinds of threads share the CPU while a recording is transcribed: the VAD threads
(`vad_threads`: Silero, one core each, finds the speech of every channel of a group before
any of them is decoded), the channel threads (`workers`: the decode), CTranslate2's (`model_workers`
replicas, inter_threads, each with `cpu_threads` OpenMP threads, intra_threads) and the
numerical libraries' own pools (OpenBLAS under numpy, OpenMP). Left alone each takes every core,
and on 2 cores they fight. So:

- the cores are the CPU affinity, capped by the cgroup's CPU quota (a container limited to 2 CPUs
  on a 64-core host has 2, not 64);
- `plan_threads` gives CTranslate2 `model_workers x cpu_threads` = the cores (by default);
- the libraries' pools get one thread (`limit_library_threads`, at import of the package,
  before numpy loads): their work here (mel filters, level meters) is small and already runs
  in as many channel threads as there are workers.

The kernel time the issue measured (40% of user time) was, though, page faults, not thread
switches: glibc hands CTranslate2's large activation buffers (150 MB for a batch of 16 windows)
straight from mmap and back on every call, so each encode faults them in again.
`tune_allocator` makes them come from a heap kept for reuse (bench/asr.py: 3.8 million faults
and 8 s of system time down to 0.2 million and under 1 s, same peak RSS).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
# The numerical libraries' thread pools, each read once when the library loads.
LIBRARY_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Channels a recording has at most (limits.MAX_CHANNELS, repeated to keep this module free of
# imports: it is loaded before numpy).
_MAX_CHANNELS = 32
# glibc mallopt parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
# Free memory the allocator keeps at the top of its heap for the next decode, at most.
KEEP_FREE_BYTES = 1 << 30
# The variables `limit_library_threads` set (not those the environment had already).
library_defaults: list[str] = []


def _quota_cores(cpu_max: Path, v1_quota: Path, v1_period: Path) -> int | None:
    """Whole cores the cgroup's quota allows (at least 1), or None where there is no quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota, period = v1_quota.read_text().strip(), v1_period.read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1"):
        return None
    try:
        return max(1, int(quota) // int(period))
    except (ValueError, ZeroDivisionError):
        return None


def available_cores(
    cpu_max: Path = CGROUP_V2_CPU_MAX,
    v1_quota: Path = CGROUP_V1_QUOTA,
    v1_period: Path = CGROUP_V1_PERIOD,
    affinity: int | None = None,
) -> int:
    """Cores this process may use: its CPU affinity, capped by the cgroup's CPU quota."""
    cores = affinity if affinity is not None else len(os.sched_getaffinity(0))
    quota = _quota_cores(cpu_max, v1_quota, v1_period)
    return max(1, min(cores, quota) if quota is not None else cores)


@dataclass(frozen=True)
class ThreadPlan:
    cores: int
    workers: int  # channels transcribed at the same time, per transcription
    model_workers: int  # CTranslate2 inter_threads: batches the model runs at the same time
    cpu_threads: int  # CTranslate2 intra_threads, per model worker
    vad_threads: int  # channels Silero looks at at once, before their decode starts


def plan_threads(
    cores: int, *, cuda: bool, batching: bool, workers: int = 0, cpu_threads: int = 0
) -> ThreadPlan:
    """The threads for `cores`; `workers` and `cpu_threads` other than 0 are the operator's.

    Without batching across jobs every channel thread runs the model itself, so the model has
    one worker per channel thread and the cores are shared among them: on CPU one channel
    thread per 4 cores (on 2 cores two workers of one thread are about 15% faster than one of
    two, but need 70% more memory: the memory wins by default). With batching one decode
    thread runs the model (one worker, every core) and a channel thread only finds speech,
    times words and waits: on CUDA the default is then a channel thread per core (2 to 32),
    so a many-channel recording fills batches on its own.
    By default `model_workers x cpu_threads` is at most `cores`.
    """
    if not workers:
        workers = min(_MAX_CHANNELS, max(2, cores)) if batching and cuda else max(1, cores // 4)
    model_workers = 1 if batching else workers
    return ThreadPlan(
        cores=cores,
        workers=workers,
        model_workers=model_workers,
        cpu_threads=cpu_threads or max(1, cores // model_workers),
        vad_threads=cores,
    )


def limit_library_threads(environ: dict[str, str] | None = None) -> None:
    """One thread for each numerical library's pool, unless the environment already says.

    Must run before numpy (OpenBLAS) and CTranslate2 (OpenMP) load: `transcribe/__init__.py`
    calls it. CTranslate2 still runs `cpu_threads` threads: it sets its own count per model.
    """
    env = os.environ if environ is None else environ
    for name in LIBRARY_THREAD_VARIABLES:
        if name not in env:
            env[name] = "1"
            library_defaults.append(name)


def tune_allocator() -> bool:
    """Large blocks from a heap glibc keeps, not from mmap and back on every free.

    One arena (the model's worker threads would each get one, whose heaps cannot hold a
    150 MB block, so it would be mmapped anyway), no mmap, and up to `KEEP_FREE_BYTES` of
    free memory kept at the top of the heap. False where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = all(
        mallopt(param, value) == 1
        for param, value in (
            (_M_ARENA_MAX, 1),
            (_M_MMAP_MAX, 0),
            (_M_TRIM_THRESHOLD, KEEP_FREE_BYTES),
        )
    )
    if not done:
        log.warning("could not tune the C allocator: decoding will fault more pages in")
    return done
