"""User story: whatever file a user (or an attacker) hands to napari-cinn — truncated, flipped,
lying about its size, a pickle, a zip bomb, an external HDF5 link, a FIFO beside it, a tampered
model — the answer is the layer's own error naming the file, quickly and in bounded memory;
never a traceback, a hang, a memory blow-up or silent NaN.

A seeded sample of the cases of ``tests/fuzz/run_fuzz.py`` (which runs >= 10,000 per family).
"""

from __future__ import annotations

import collections
import resource
import signal
import time

import pytest
from fuzz_cases import FAMILIES, make_case, run_case

CASES = {"envi": 300, "tivita": 300, "numpy": 200, "tiff": 200, "hdf5": 300, "model": 200}


class _Hang(Exception):
    pass


@pytest.fixture
def bounded():
    """Per-case alarm and an address-space cap 3 GB above what the process uses now."""

    def alarm(*_):
        raise _Hang()

    old_handler = signal.signal(signal.SIGALRM, alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        vm = int(fh.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vm + 3 * 1024**3, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    signal.signal(signal.SIGALRM, old_handler)


@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_files_get_a_clean_answer(family, tmp_path, bounded):
    outcomes: collections.Counter = collections.Counter()
    bad = []
    t0 = time.perf_counter()
    for i in range(CASES[family]):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        path, how = make_case(family, i, folder)
        signal.alarm(10)
        try:
            outcome = run_case(family, path)
        except _Hang:
            outcome = "hang"
        except MemoryError:
            outcome = "memory"
        finally:
            signal.alarm(0)
        outcomes[outcome] += 1
        if outcome not in ("ok", "refused"):
            bad.append(f"#{i} {how}: {outcome}")
    assert bad == [], f"{len(bad)} of {CASES[family]} {family} cases: {bad[:5]}"
    # most hostile cases are refused, the rest still read (e.g. a flip inside the pixel data)
    assert outcomes["refused"] > 0.2 * CASES[family]
    assert time.perf_counter() - t0 < 60
