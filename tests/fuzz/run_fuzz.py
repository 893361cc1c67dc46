"""Long fuzz run of every reader family and of model files; prints a table and one JSON line.

    nice -n 10 env OMP_NUM_THREADS=1 python tests/fuzz/run_fuzz.py --cases 10000 --out fuzz.json

Each family runs in a worker process that takes cases ``0..N-1`` of :mod:`fuzz_cases` in order.
Per case the worker samples its resident memory every 2 ms (peak minus the RSS before the
case), and its address space is capped (``--cap-gb`` above what it uses after warm-up), so a
runaway allocation fails fast instead of hurting the machine. A case that does not answer within
``--timeout`` seconds is a hang: the parent kills the worker, counts it and starts a new worker
at the next case. Outcomes: ok, refused (the layer's own error naming the file), ugly (anything
else: see ``fuzz_cases.run_case``), garbage (model files: finite input → NaN), hang,
memory ≥ 1 GB.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GB = 1024**3


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _vm() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class _Peak(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.active = False

    def run(self) -> None:
        while True:
            if self.active:
                self.peak = max(self.peak, _rss())
            time.sleep(0.002)


def worker(family: str, start: int, stop: int, cap_gb: float) -> None:
    """Run cases ``start..stop-1`` and print one JSON line per case (and 'start' lines)."""
    import logging
    import resource
    import warnings

    sys.path.insert(0, str(HERE))
    import fuzz_cases as fc

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    root = Path(
        tempfile.mkdtemp(
            prefix=f"fuzz_{family}_", dir="/dev/shm" if Path("/dev/shm").is_dir() else None
        )
    )
    warm = root / "warm"
    warm.mkdir()
    fc.run_case(family, fc.make_case(family, 0, warm)[0])  # imports and caches first
    shutil.rmtree(warm, ignore_errors=True)
    limit = _vm() + int(cap_gb * GB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    peak = _Peak()
    peak.start()
    for i in range(start, stop):
        print(json.dumps({"start": i}), flush=True)
        folder = root / f"c{i}"
        folder.mkdir()
        t0 = time.perf_counter()
        try:
            path, how = fc.make_case(family, i, folder)
        except Exception as err:  # noqa: BLE001 - a broken generator is not a reader bug
            print(json.dumps({"i": i, "outcome": "skipped", "how": repr(err)[:80]}), flush=True)
            shutil.rmtree(folder, ignore_errors=True)
            continue
        base = _rss()
        peak.peak, peak.active = base, True
        try:
            outcome = fc.run_case(family, path)
        except MemoryError:
            outcome = "ugly:MemoryError"
        peak.active = False
        mem = max(0, peak.peak - base)
        dt = time.perf_counter() - t0
        print(json.dumps({"i": i, "outcome": outcome, "how": how, "mem": mem, "t": dt}), flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)


def run_family(family: str, n: int, timeout: float, cap_gb: float) -> dict:
    counts: collections.Counter = collections.Counter()
    examples: dict[str, list[str]] = {}
    peak = slowest = 0.0
    nxt = 0
    t0 = time.perf_counter()
    while nxt < n:
        cmd = [sys.executable, __file__, "--worker", family, str(nxt), str(n), str(cap_gb)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        fd = proc.stdout.fileno()
        buf = b""
        current, last, alive = None, time.perf_counter(), True
        while alive:
            # raw reads (no Python-level buffering): select() must see every pending line
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                last = time.perf_counter()
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    rec = json.loads(line)
                    if "start" in rec:
                        current = rec["start"]
                        continue
                    current = None
                    nxt = rec["i"] + 1
                    out = rec["outcome"]
                    if rec.get("mem", 0) >= GB:
                        out = "memory>=1GB"
                    counts[out.split(":")[0]] += 1
                    if out not in ("ok", "refused", "skipped"):
                        examples.setdefault(out, []).append(f"#{rec['i']} {rec['how']}")
                    peak = max(peak, rec.get("mem", 0))
                    slowest = max(slowest, rec.get("t", 0))
            elif current is not None and time.perf_counter() - last > timeout:
                proc.kill()
                counts["hang"] += 1
                examples.setdefault("hang", []).append(f"#{current}")
                nxt, current, alive = current + 1, None, False
            elif proc.poll() is not None:
                break
        proc.wait()
        proc.stdout.close()
        if current is not None and nxt <= current:  # the worker died inside a case
            counts["ugly"] += 1
            examples.setdefault("ugly:worker died", []).append(f"#{current}")
            nxt = current + 1
    return {
        "family": family,
        "cases": n,
        "ok": counts["ok"],
        "refused": counts["refused"],
        "ugly": counts["ugly"],
        "garbage": counts["garbage"],
        "hangs": counts["hang"],
        "memory_over_1GB": counts["memory>=1GB"],
        "skipped": counts["skipped"],
        "peak_mb": round(peak / 1024**2, 1),
        "slowest_s": round(slowest, 2),
        "wall_s": round(time.perf_counter() - t0, 1),
        "examples": {k: v[:5] for k, v in examples.items()},
        "counts_by_kind": {k: len(v) for k, v in examples.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=int, default=10_000, help="cases per family")
    ap.add_argument("--families", default="envi,tivita,numpy,tiff,hdf5,model")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a case is a hang")
    ap.add_argument("--cap-gb", type=float, default=3.0, help="address space a worker may add")
    ap.add_argument("--out", help="write the results as JSON here too")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        fam, start, stop, cap = args.worker
        worker(fam, int(start), int(stop), float(cap))
        return 0
    results = []
    print(
        f"{'family':8} {'cases':>6} {'ok':>6} {'refused':>7} {'ugly':>5} {'garbage':>7} "
        f"{'hangs':>5} {'>1GB':>5} {'peak MB':>8} {'slowest s':>9} {'wall s':>7}",
        flush=True,
    )
    for fam in args.families.split(","):
        r = run_family(fam, args.cases, args.timeout, args.cap_gb)
        results.append(r)
        print(
            f"{fam:8} {r['cases']:>6} {r['ok']:>6} {r['refused']:>7} {r['ugly']:>5} "
            f"{r['garbage']:>7} {r['hangs']:>5} {r['memory_over_1GB']:>5} {r['peak_mb']:>8} "
            f"{r['slowest_s']:>9} {r['wall_s']:>7}",
            flush=True,
        )
        for kind, ex in r["examples"].items():
            print(f"    {kind} ({r['counts_by_kind'][kind]}): {'; '.join(ex[:3])}", flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=1))
    print(
        json.dumps(
            {
                "families": {
                    r["family"]: {
                        k: r[k]
                        for k in ("cases", "ugly", "garbage", "hangs", "memory_over_1GB", "peak_mb")
                    }
                    for r in results
                }
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
