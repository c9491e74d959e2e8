"""The one place that sizes thread pools: cores from affinity and the cgroup quota, a plan
whose threads add up to the cores, library pools held to one thread, and an allocator that
keeps large blocks for reuse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from transcribe.threads import (
    LIBRARY_THREAD_VARIABLES,
    available_cores,
    limit_library_threads,
    plan_threads,
)


def _cgroup(tmp_path: Path, v2: str | None = None, v1: tuple[str, str] | None = None) -> dict:
    paths = {
        "cpu_max": tmp_path / "cpu.max",
        "v1_quota": tmp_path / "cpu.cfs_quota_us",
        "v1_period": tmp_path / "cpu.cfs_period_us",
    }
    if v2 is not None:
        paths["cpu_max"].write_text(v2 + "\n")
    if v1 is not None:
        paths["v1_quota"].write_text(v1[0] + "\n")
        paths["v1_period"].write_text(v1[1] + "\n")
    return paths


@pytest.mark.parametrize(
    "v2,v1,affinity,cores",
    [
        (None, None, 16, 16),  # no cgroup files: the affinity
        ("max 100000", None, 16, 16),  # no quota
        ("200000 100000", None, 16, 2),  # a container limited to 2 CPUs on a 16-core host
        ("150000 100000", None, 16, 1),  # 1.5 CPUs: 2 threads would be throttled
        ("50000 100000", None, 4, 1),  # half a CPU: still one thread
        ("800000 100000", None, 2, 2),  # a quota above the affinity: the affinity
        (None, ("300000", "100000"), 8, 3),  # cgroup v1
        (None, ("-1", "100000"), 8, 8),  # cgroup v1, no quota
        ("garbage", None, 4, 4),  # unreadable: the affinity
    ],
)
def test_cores_are_the_affinity_capped_by_the_cgroup_quota(
    tmp_path: Path, v2: str | None, v1: tuple[str, str] | None, affinity: int, cores: int
) -> None:
    assert available_cores(**_cgroup(tmp_path, v2, v1), affinity=affinity) == cores


def test_this_process_gets_at_most_its_affinity() -> None:
    assert 1 <= available_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
@pytest.mark.parametrize("cuda,batching", [(False, False), (False, True), (True, True)])
def test_the_model_threads_add_up_to_the_cores(cores: int, cuda: bool, batching: bool) -> None:
    plan = plan_threads(cores, cuda=cuda, batching=batching)
    assert plan.model_workers * plan.cpu_threads <= cores
    assert plan.model_workers * plan.cpu_threads >= cores - plan.model_workers + 1
    assert plan.workers >= 1 and plan.cpu_threads >= 1
    assert 1 <= plan.vad_threads <= cores  # Silero's phase, before the decode: a core each
    if batching:
        assert plan.model_workers == 1 and plan.cpu_threads == cores
    else:
        assert plan.model_workers == plan.workers


def test_the_operator_settings_win() -> None:
    plan = plan_threads(2, cuda=False, batching=False, workers=2, cpu_threads=1)
    assert (plan.workers, plan.model_workers, plan.cpu_threads) == (2, 2, 1)
    # Workers alone: the cores are shared among them.
    assert plan_threads(8, cuda=False, batching=False, workers=4).cpu_threads == 2


def test_library_pools_get_one_thread_unless_the_environment_says() -> None:
    env = {"OMP_NUM_THREADS": "4"}
    limit_library_threads(env)
    assert env["OMP_NUM_THREADS"] == "4"
    assert all(env[name] == "1" for name in LIBRARY_THREAD_VARIABLES if name != "OMP_NUM_THREADS")


def test_importing_transcribe_sets_them_before_numpy_loads() -> None:
    """In a fresh interpreter: after `import transcribe`, numpy's OpenBLAS runs one thread."""
    env = {k: v for k, v in os.environ.items() if k not in LIBRARY_THREAD_VARIABLES}
    code = (
        "import transcribe, os, numpy\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "1"]


_FAULTS = """
import ctypes, ctypes.util, resource, sys
from transcribe.threads import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def round_of_blocks():  # as CTranslate2 does for an encode: malloc, write, free (no madvise)
    blocks = [libc.malloc(150 << 20) for _ in range(2)]
    for block in blocks:
        ctypes.memset(block, 1, 150 << 20)
    for block in blocks:
        libc.free(block)
round_of_blocks()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    round_of_blocks()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_large_blocks_are_reused_not_faulted_in_again() -> None:
    """Three more rounds of the same large blocks: page faults without tuning and with."""
    counts = {}
    for mode in ("plain", "tuned"):
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True
        )
        counts[mode] = int(out.stdout)
    print(counts)
    assert counts["plain"] > 100_000  # 3 x 300 MB in 4 kB pages
    assert counts["tuned"] < counts["plain"] / 10
