"""Throughput of sim→real transfer of a 640×480×100 HSI cube with the default HSI model.

The figure that matters is the ratio to this machine's own matmul rate for the same layer shapes:
transfer time versus the time the bare matrix products of encode + decode take. Also measures peak
memory of a transfer from a memory-mapped cube into a memory-mapped output.

    python benchmarks/bench_transfer.py [--device auto] [--height 480 --width 640] [--chunk N]

Prints a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from napari_cinn.core import build_model, resolve_device, transfer_image
from napari_cinn.core.transfer import DEFAULT_CHUNK_PIXELS


def matmul_time(model, n: int, device: torch.device, repeats: int = 3) -> float:
    """Seconds the bare matmuls of one encode + decode of ``n`` spectra take (same shapes, same device)."""
    shapes = []
    for block in model.flow.module_list:
        for layer in block.subnet:
            if isinstance(layer, torch.nn.Linear):
                shapes.append((layer.in_features, layer.out_features))
        shapes.append((model.n_bands, model.n_bands))  # the block's channel permutation
    mats = [(torch.randn(n, i, device=device), torch.randn(o, i, device=device)) for i, o in shapes]
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        for _ in range(2):  # encode and decode
            for a, w in mats:
                torch.nn.functional.linear(a, w)
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return best


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--chunk", type=int, default=None, help="pixels per chunk (default: the core's)")
    p.add_argument(
        "--no-memmap", action="store_true", help="skip the memory-mapped peak-memory run"
    )
    args = p.parse_args()

    device = resolve_device(args.device)
    model = build_model("hsi").to(device)
    with torch.no_grad():  # fresh couplings are identities; give them weights so the work is real
        for prm in model.parameters():
            if prm.requires_grad:
                prm.add_(0.02 * torch.randn_like(prm))
    rng = np.random.default_rng(0)
    cube = rng.uniform(0.1, 1.0, (100, args.height, args.width)).astype(np.float32)
    n = args.height * args.width
    chunk = args.chunk or DEFAULT_CHUNK_PIXELS

    transfer_image(model, cube[:, :32, :], "sim", "real", device=device, chunk=chunk)  # warm-up
    t = time.perf_counter()
    transfer_image(model, cube, "sim", "real", device=device, chunk=chunk)
    _sync(device)
    seconds = time.perf_counter() - t
    rate = n / seconds

    full_chunks, rest = divmod(n, chunk)
    ideal = full_chunks * matmul_time(model, chunk, device) + (
        matmul_time(model, rest, device) if rest else 0
    )
    ratio = ideal / seconds
    peak = (
        None
        if args.no_memmap or device.type != "cpu"
        else memmap_peak(args.height, args.width, 8192)
    )
    cube_mb = cube.nbytes / 1e6
    params = sum(q.numel() for q in model.parameters() if q.requires_grad)

    rows = [
        (
            "device",
            str(device) + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""),
        ),
        ("torch threads", torch.get_num_threads()),
        (
            "model",
            f"default HSI cINN, {len(model.flow.module_list)} blocks, {params / 1e6:.2f} M parameters",
        ),
        ("cube", f"{args.width}×{args.height}×100 ({cube_mb:.0f} MB)"),
        ("transfer time", f"{seconds:.2f} s"),
        ("spectra/s", f"{rate:,.0f}"),
        ("bare matmul time, same shapes", f"{ideal:.2f} s"),
        ("share of matmul rate", f"{100 * ratio:.0f} %"),
    ]
    if peak is not None:
        rows.append(
            (
                "memmap → memmap, chunk 8192",
                f"working memory +{peak[0]:.0f} MB; mapped file pages "
                f"{peak[1]:.0f} MB (cube {cube_mb:.0f} MB in + {cube_mb:.0f} MB out, reclaimable)",
            )
        )
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
                "matmul_s": round(ideal, 3),
                "matmul_ratio": round(ratio, 3),
                "memmap_anon_peak_mb": None if peak is None else round(peak[0], 1),
                "memmap_file_rss_mb": None if peak is None else round(peak[1], 1),
                "cube_mb": round(cube_mb, 1),
                "threads": torch.get_num_threads(),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
