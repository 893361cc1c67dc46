"""Throughput of sim→real transfer of a 640×480×100 HSI cube with the default HSI model.

Side by side in one process, on the same weights, chunks and chunk loop: the shipped inference
path (``core/dense_plan.py``) against plain FrEIA 0.2 ``AllInOneBlock`` couplings of the same
architecture (``freia_ratio`` = FrEIA time / our time, from interleaved best-of-R runs on a slice
of the cube, so that load from other processes hits both alike), and against this machine's bare
matrix products of the same shapes. A profile of one chunk splits the time into matrix products,
permutation gathers, element-wise work and copies. Also measures the full cube, and the peak
memory of a transfer from a memory-mapped cube into a memory-mapped output.

    python benchmarks/bench_transfer.py [--device auto] [--height 480 --width 640] [--chunk N]

Prints a table, then one JSON line with the figures. The machine is shared: quote the load.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from napari_cinn.core import build_model, resolve_device, transfer_image
from napari_cinn.core.transfer import DEFAULT_CHUNK_PIXELS


def _in_chunks(fn, n: int, chunk: int, device: torch.device) -> float:
    """Seconds to run ``fn(rows)`` over ``n`` rows in chunks the way ``transfer_image`` does: on
    CPU one single-threaded chunk per torch thread at once, elsewhere one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    from napari_cinn.core._chunks import _chunk_workers
    from napari_cinn.core.devices import torch_threads

    sizes = [min(chunk, n - i) for i in range(0, n, chunk)]
    workers = _chunk_workers(device)
    _sync(device)
    t = time.perf_counter()
    if workers == 1:
        for size in sizes:
            fn(size)
    else:
        with torch_threads(1), ThreadPoolExecutor(workers) as pool:
            list(pool.map(fn, sizes))
    _sync(device)
    return time.perf_counter() - t


def matmul_time(
    model, n: int, chunk: int, device: torch.device, permutation: bool = True, repeats: int = 2
) -> float:
    """Seconds the bare matmuls of one encode + decode of ``n`` spectra take (same shapes, same
    device, same chunking and threads); ``permutation`` adds FrEIA's ``bands × bands`` product."""
    shapes = []
    for block in model.flow.module_list:
        for layer in block.subnet:
            if isinstance(layer, torch.nn.Linear):
                shapes.append((layer.in_features, layer.out_features))
        if permutation:
            shapes.append((model.n_bands, model.n_bands))
    weights = [torch.randn(o, i, device=device) for i, o in shapes]
    inputs = {c: [torch.randn(c, i, device=device) for i, _ in shapes] for c in {chunk, n % chunk}}

    def one(size: int) -> None:
        with torch.inference_mode():
            for _ in range(2):  # encode and decode
                for a, w in zip(inputs[size], weights, strict=True):
                    torch.nn.functional.linear(a, w)

    return min(_in_chunks(one, n, chunk, device) for _ in range(repeats))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def memmap_peak(height: int, width: int, chunk: int) -> tuple[float, float]:
    """Working memory (MB) of a memmap → memmap transfer in a child process.

    Returns (peak anonymous RSS above the baseline after imports and model build, peak file-backed
    RSS). Anonymous memory is what the transfer allocates; file-backed pages are the memory-mapped
    cubes, which the OS can drop at any time, so they do not limit the cube size.
    """
    code = f"""
import numpy as np, os, tempfile, threading, time
from napari_cinn.core import build_model, transfer_image

def status():
    fields = dict(line.split(':', 1) for line in open('/proc/self/status'))
    return [int(fields[k].split()[0]) / 1024 for k in ('RssAnon', 'RssFile')]

d = tempfile.mkdtemp()
shape = (100, {height}, {width})
src = np.lib.format.open_memmap(os.path.join(d, 'in.npy'), 'w+', np.float32, shape)
for y in range(0, shape[1], 32):
    src[:, y:y + 32] = np.random.default_rng(y).uniform(0.1, 1, (100, min(32, shape[1] - y), shape[2]))
src.flush(); del src
src = np.load(os.path.join(d, 'in.npy'), mmap_mode='r')
out = np.lib.format.open_memmap(os.path.join(d, 'out.npy'), 'w+', np.float32, shape)
model = build_model('hsi')
transfer_image(model, src[:, :2], 'sim', 'real', chunk={chunk}, device='cpu')  # warm-up
base = status()[0]
peak = [0.0, 0.0]
done = threading.Event()
def watch():
    while not done.is_set():
        peak[:] = [max(a, b) for a, b in zip(peak, status())]
        time.sleep(0.005)
t = threading.Thread(target=watch); t.start()
transfer_image(model, src, 'sim', 'real', chunk={chunk}, device='cpu', out=out)
done.set(); t.join()
print(peak[0] - base, peak[1])
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    anon, file_backed = res.stdout.split()[-2:]
    return float(anon), float(file_backed)


def freia_copy(model):
    """The same model and weights with FrEIA 0.2's own ``AllInOneBlock.forward``."""
    import FrEIA.modules as Fm

    ref = copy.deepcopy(model)
    for block in ref.flow.module_list:
        block.__class__ = Fm.AllInOneBlock
    return ref


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the profiler's C++ start/stop lines (file descriptor 2)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


CATEGORIES = {
    "matrix products": ("aten::mm", "aten::addmm", "aten::matmul", "aten::bmm"),
    "permutation gathers": ("aten::index", "aten::index_select", "aten::gather"),
    "copies / concatenation": ("aten::copy_", "aten::cat", "aten::clone", "aten::_to_copy"),
}


def profile_chunk(model, x: torch.Tensor) -> dict[str, float]:
    """Share of self CPU time per category for one transfer of ``x`` (n, bands)."""
    from torch.profiler import ProfilerActivity, profile

    from napari_cinn.core.devices import torch_threads

    with torch.inference_mode(), torch_threads(1), _quiet_stderr():  # as one chunk runs
        model.transfer(x, "sim", "real")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model.transfer(x, "sim", "real")
    totals = {k: 0.0 for k in (*CATEGORIES, "element-wise and other")}
    for ev in prof.key_averages():
        key = next((k for k, names in CATEGORIES.items() if ev.key in names), None)
        if key is None:
            if not ev.key.startswith("aten::") or ev.self_cpu_time_total <= 0:
                continue
            key = "element-wise and other"
        totals[key] += ev.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    return {k: v / whole for k, v in totals.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--chunk", type=int, default=None, help="pixels per chunk (default: the core's)")
    p.add_argument("--rows", type=int, default=48, help="rows of the side-by-side slice")
    p.add_argument("--repeats", type=int, default=4, help="interleaved rounds side by side")
    p.add_argument(
        "--no-memmap", action="store_true", help="skip the memory-mapped peak-memory run"
    )
    args = p.parse_args()
    load_before = os.getloadavg()

    device = resolve_device(args.device)
    model = build_model("hsi").to(device)
    with torch.no_grad():  # fresh couplings are identities; give them weights so the work is real
        for prm in model.parameters():
            if prm.requires_grad:
                prm.add_(0.02 * torch.randn_like(prm))
    rng = np.random.default_rng(0)
    cube = rng.uniform(0.1, 1.0, (100, args.height, args.width)).astype(np.float32)
    sample = cube.reshape(100, -1)[:, :: max(1, cube[0].size // 20000)].T
    model.fit_normalization(sample, "sim")
    model.fit_normalization(0.8 * sample + 0.05, "real")
    ref = freia_copy(model)
    n = args.height * args.width
    chunk = args.chunk or DEFAULT_CHUNK_PIXELS

    def run(m, image) -> float:
        _sync(device)
        t, c = time.perf_counter(), time.process_time()
        out = transfer_image(m, image, "sim", "real", device=device, chunk=chunk)
        _sync(device)
        run.last, run.cpu = out, time.process_time() - c
        return time.perf_counter() - t

    part = np.ascontiguousarray(cube[:, : args.rows])
    run(model, part[:, :4])  # warm-up (also builds the plan)
    run(ref, part[:, :4])
    ours_s = freia_s = ours_cpu = freia_cpu = float("inf")
    for _ in range(args.repeats):  # interleaved, best of R: both see the same load
        ours_s = min(ours_s, run(model, part))
        ours_out, ours_cpu = run.last, min(ours_cpu, run.cpu)
        freia_s = min(freia_s, run(ref, part))
        freia_cpu = min(freia_cpu, run.cpu)
    freia_out = run.last
    rel_err = float(np.nanmax(np.abs(ours_out - freia_out) / (np.abs(freia_out) + 1e-3)))
    back = transfer_image(model, ours_out, "real", "sim", device=device, chunk=chunk)
    round_trip = float(np.nanmax(np.abs(back - part)))
    freia_ratio = freia_s / ours_s

    seconds = run(model, cube)
    rate = n / seconds
    ideal = matmul_time(model, n, chunk, device)
    sub_ideal = matmul_time(model, n, chunk, device, permutation=False)
    prof = {}
    if device.type == "cpu":
        x = torch.from_numpy(np.ascontiguousarray(part.reshape(100, -1)[:, :chunk].T))
        with torch.no_grad():
            prof = {"ours": profile_chunk(model, x), "FrEIA 0.2": profile_chunk(ref, x)}
    peak = (
        None
        if args.no_memmap or device.type != "cpu"
        else memmap_peak(args.height, args.width, chunk)
    )
    load_after = os.getloadavg()
    cube_mb = cube.nbytes / 1e6
    params = sum(q.numel() for q in model.parameters() if q.requires_grad)
    n_part = part[0].size

    rows = [
        (
            "device",
            str(device) + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""),
        ),
        ("load (uptime 1/5/15 min)", " / ".join(f"{v:.2f}" for v in load_before)),
        ("torch threads", f"{torch.get_num_threads()} (one chunk per thread, {chunk} px each)"),
        (
            "model",
            f"default HSI cINN, {len(model.flow.module_list)} blocks × {model.hyper['hidden']}, "
            f"{params / 1e6:.2f} M parameters",
        ),
        ("side by side", f"{args.width}×{args.rows} px slice, best of {args.repeats} interleaved"),
        ("  ours (dense plan)", f"{ours_s:.2f} s  ({n_part / ours_s:,.0f} spectra/s)"),
        ("  plain FrEIA 0.2 blocks", f"{freia_s:.2f} s  ({n_part / freia_s:,.0f} spectra/s)"),
        ("  freia_ratio", f"{freia_ratio:.2f}× wall clock"),
        (
            "  CPU time (process)",
            f"ours {ours_cpu:.2f} s, FrEIA {freia_cpu:.2f} s: {freia_cpu / ours_cpu:.2f}× "
            "(the work itself; other processes' load does not enter)",
        ),
        ("  max rel. difference to FrEIA", f"{rel_err:.1e}; round trip max |Δ| {round_trip:.1e}"),
        ("full cube", f"{args.width}×{args.height}×100 ({cube_mb:.0f} MB)"),
        ("  transfer time", f"{seconds:.2f} s ({rate:,.0f} spectra/s)"),
        ("  bare matmul, FrEIA shapes", f"{ideal:.2f} s (subnets + permutation products)"),
        ("  bare matmul, subnets only", f"{sub_ideal:.2f} s"),
        ("  share of subnet matmul rate", f"{100 * sub_ideal / seconds:.0f} %"),
    ]
    for who, shares in prof.items():
        rows.append(
            (f"profile, {who}", ", ".join(f"{k} {100 * v:.0f} %" for k, v in shares.items()))
        )
    if peak is not None:
        rows.append(
            (
                f"memmap → memmap, chunk {chunk}",
                f"working memory +{peak[0]:.0f} MB; mapped file pages "
                f"{peak[1]:.0f} MB (cube {cube_mb:.0f} MB in + {cube_mb:.0f} MB out, reclaimable)",
            )
        )
    rows.append(("load after", " / ".join(f"{v:.2f}" for v in load_after)))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(
        json.dumps(
            {
                "device": device.type,
                "height": args.height,
                "width": args.width,
                "chunk": chunk,
                "transfer_s": round(seconds, 3),
                "spectra_per_s": round(rate),
                "freia_ratio": round(freia_ratio, 3),
                "freia_ratio_cpu_time": round(freia_cpu / ours_cpu, 3),
                "side_by_side_ours_s": round(ours_s, 3),
                "side_by_side_freia_s": round(freia_s, 3),
                "max_rel_diff_freia": rel_err,
                "round_trip_max_abs": round_trip,
                "matmul_s": round(ideal, 3),
                "matmul_ratio": round(ideal / seconds, 3),
                "subnet_matmul_s": round(sub_ideal, 3),
                "profile": {k: {c: round(v, 3) for c, v in d.items()} for k, d in prof.items()},
                "memmap_anon_peak_mb": None if peak is None else round(peak[0], 1),
                "memmap_file_rss_mb": None if peak is None else round(peak[1], 1),
                "cube_mb": round(cube_mb, 1),
                "threads": torch.get_num_threads(),
                "cpu_count": os.cpu_count(),
                "load_before": round(load_before[0], 2),
                "load_after": round(load_after[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
