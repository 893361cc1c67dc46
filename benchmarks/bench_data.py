"""HSI training data at HeiPorSPECTRAL size: memory and loader speed from 20 to 200 full cubes.

Writes a synthetic set of full-size 640 × 480 × 100 float32 cubes (half "sim" as ``.npy`` with
label masks of 10 organ-like classes, half "real" as big-endian Tivita ``.dat``; 123 MB each,
≈ 25 GB for 200), then, for growing subsets, runs the training loader in a fresh child process:
index the files (``prepare``), fill the pixel pool, and draw the batches of a few epochs exactly as
``cinn-train fit`` does (``SpectraBatches`` + ``EpochSampler.set_epoch``, which re-reads
``refresh_files`` files per epoch). It reports the peak anonymous memory (what the loader holds;
memory-mapped file pages are the OS's cache and are listed apart), the time to fill the pool and
the batches per second, and it times the SHA-256 manifest with a cold and a warm hash cache.

    python benchmarks/bench_data.py --root /work/bigdata [--files 20,50,100,200] [--keep]

Check the free space first (``df -h``); the set is deleted at the end unless ``--keep``. Prints a
table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

H, W, BANDS = 480, 640, 100
CUBE_BYTES = H * W * BANDS * 4


def _base(real: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(bands, H, W) cube of 10 classes in blocks, smooth spectra; real adds a tilt and noise."""
    from napari_cinn.core.spectra import HSI_WAVELENGTHS

    rng = np.random.default_rng(seed)
    labels = np.zeros((H, W), np.int32)
    for c in range(1, 11):  # organ-like blocks of varying size; 0 = background elsewhere
        y0, x0 = rng.integers(0, H - 120), rng.integers(0, W - 160)
        labels[y0 : y0 + rng.integers(60, 120), x0 : x0 + rng.integers(80, 160)] = c
    wl = (HSI_WAVELENGTHS - 500.0) / 500.0
    centres = np.linspace(0.0, 0.9, 11)[labels]
    cube = np.empty((BANDS, H, W), np.float32)
    for b in range(BANDS):
        cube[b] = np.exp(-((wl[b] - centres) ** 2) / 0.05) + 0.3
    cube *= rng.uniform(0.8, 1.2, (1, H, W)).astype(np.float32)
    if real:
        cube = cube * (1.0 + 0.4 * wl[:, None, None]).astype(np.float32) + 0.1
        cube += rng.normal(0, 0.02, cube.shape).astype(np.float32)
    return cube, labels


def write_set(root: Path, n_files: int) -> float:
    """Write ``n_files`` cubes (half per domain) under ``root``/{sim,real}; returns seconds."""
    from napari_cinn.core.spectra import HSI_WAVELENGTHS
    from napari_cinn.io import SpectralImage, write_spectral

    t = time.perf_counter()
    per = n_files // 2
    for domain in ("sim", "real"):
        folder = root / domain
        folder.mkdir(parents=True, exist_ok=True)
        cube, labels = _base(domain == "real", seed=1 if domain == "real" else 0)
        ext = ".npy" if domain == "sim" else ".dat"
        for i in range(per):
            path = folder / f"{domain}_{i:04d}{ext}"
            if path.exists():
                continue
            scaled = cube * np.float32(1.0 + 0.002 * i)
            image = SpectralImage(
                scaled,
                HSI_WAVELENGTHS.copy(),
                np.roll(labels, 7 * i, axis=1) if domain == "sim" else None,
                {c: f"organ{c}" for c in range(11)} if domain == "sim" else None,
            )
            write_spectral(path, image)
    return time.perf_counter() - t


def subset(root: Path, n_files: int) -> tuple[Path, Path]:
    """Folders of symlinks to the first ``n_files`` cubes (half per domain) and their sidecars."""
    out = root / "sets" / f"n{n_files:04d}"
    folders = []
    for domain in ("sim", "real"):
        d = out / domain
        d.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in (root / domain).iterdir())
        stems = sorted({n.split(".")[0] for n in names if not n.split(".")[0].endswith("_labels")})
        stems = [s for s in stems if not s.endswith("_wavelengths")][: n_files // 2]
        for name in names:
            if any(name.startswith(s + ".") or name.startswith(s + "_") for s in stems):
                link = d / name
                if not link.exists():
                    link.symlink_to(root / domain / name)
        folders.append(d)
    return folders[0], folders[1]


CHILD = r"""
import json, sys, threading, time
from pathlib import Path
sim, real, mode, cache, memory_mb, refresh, epochs, batch, spe = sys.argv[1:10]

def status():
    f = dict(line.split(':', 1) for line in open('/proc/self/status'))
    return [int(f[k].split()[0]) / 1024 for k in ('RssAnon', 'RssFile')]

peak = [0.0, 0.0]
done = threading.Event()
def watch():
    while not done.is_set():
        peak[:] = [max(a, b) for a, b in zip(peak, status())]
        time.sleep(0.01)

from napari_cinn_training.data import EpochSampler, HashCache, Sampling, SpectraBatches, prepare
base = status()[0]
threading.Thread(target=watch, daemon=True).start()
hashes = HashCache(Path(cache), enabled=mode != "nocache")
t0 = time.perf_counter()
sp = Sampling(memory_mb=float(memory_mb), refresh_files=int(refresh))
data = prepare(sim, real, "hsi", val_fraction=0.0, sampling=sp, hashes=hashes)
t_prepare = time.perf_counter() - t0
out = {"prepare_s": t_prepare, "hash_misses": hashes.misses, "hash_hits": hashes.hits}
if mode != "hash-only":
    ds = SpectraBatches(data.train, int(batch), int(spe), seed=0)
    sampler = EpochSampler(len(ds), on_epoch=ds.prepare_epoch)
    t = time.perf_counter(); sampler.set_epoch(0); t_fill = time.perf_counter() - t
    epoch_s, draw_s, refresh_s = [], [], []
    for e in range(int(epochs)):
        t = time.perf_counter()
        if e:
            sampler.set_epoch(e)
        t_r = time.perf_counter() - t
        n = 0
        for index in sampler:
            b = ds[index]
            n += 1
        epoch_s.append(time.perf_counter() - t); refresh_s.append(t_r)
        draw_s.append(epoch_s[-1] - t_r)
    steady = epoch_s[1:] or epoch_s
    out.update(
        fill_s=t_fill, batches_per_epoch=n,
        batches_per_s=n * len(steady) / sum(steady),
        draw_batches_per_s=n * len(draw_s) / sum(draw_s),
        refresh_s=sum(refresh_s[1:]) / max(1, len(refresh_s) - 1),
        pool_files={d: p.size for d, p in ds.pools.items()},
        pool_mb=sum(p.nbytes() for p in ds.pools.values()) / 2**20,
        files_read={d: p.files_read for d, p in ds.pools.items()},
    )
done.set()
out.update(peak_anon_mb=peak[0], base_anon_mb=base, peak_file_mb=peak[1])
print(json.dumps(out))
"""


def run_child(sim, real, mode, cache, args) -> dict:
    cmd = [
        sys.executable,
        "-c",
        CHILD,
        str(sim),
        str(real),
        mode,
        str(cache),
        str(args.memory_mb),
        str(args.refresh),
        str(args.epochs),
        str(args.batch_size),
        str(args.samples_per_epoch),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(f"child failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default="/work/bigdata", type=Path)
    p.add_argument("--files", default="20,50,100,200", help="subset sizes (files, both domains)")
    p.add_argument("--memory-mb", type=float, default=128.0, help="data.memory_mb of the runs")
    p.add_argument("--refresh", type=int, default=4, help="data.refresh_files of the runs")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--samples-per-epoch", type=int, default=65536)
    p.add_argument("--keep", action="store_true", help="keep the written set")
    args = p.parse_args()
    sizes = sorted(int(v) for v in args.files.split(","))
    n_max = sizes[-1]
    need = n_max * CUBE_BYTES * 1.05
    args.root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.root).free
    have = sum(f.stat().st_size for f in args.root.rglob("*") if f.is_file() and not f.is_symlink())
    if free + have < need * 1.1:
        raise SystemExit(
            f"{args.root}: {free / 1e9:.0f} GB free, the set needs {need / 1e9:.0f} GB"
        )
    load = os.getloadavg()
    t_write = write_set(args.root, n_max)
    on_disk = sum(
        f.stat().st_size for f in args.root.rglob("*") if f.is_file() and not f.is_symlink()
    )
    # manifest hashing of the largest set: a cold cache (every byte hashed), then a warm one
    sim, real = subset(args.root, n_max)
    cache = args.root / "sha256.json"
    cache.unlink(missing_ok=True)
    cold = run_child(sim, real, "hash-only", cache, args)
    warm = run_child(sim, real, "hash-only", cache, args)
    rows = []
    for n in sizes:
        sim, real = subset(args.root, n)
        r = run_child(sim, real, "loader", cache, args)
        r["files"] = n
        rows.append(r)
    load_after = os.getloadavg()

    print(
        f"set: {n_max} cubes 640×480×100 float32 ({on_disk / 1e9:.1f} GB on disk, written in "
        f"{t_write:.0f} s); data.memory_mb={args.memory_mb:g}, refresh_files={args.refresh}, "
        f"batch {args.batch_size}, {args.samples_per_epoch} spectra/epoch/domain"
    )
    print(f"load (uptime) before {load[0]:.2f}, after {load_after[0]:.2f}; 2 shared cores")
    head = (
        f"{'files':>5}  {'GB':>5}  {'eager load (old)':>16}  {'peak anon':>9}  {'pool':>7}  "
        f"{'pool files':>10}  {'fill s':>6}  {'batch/s':>7}  {'draw batch/s':>12}  "
        f"{'refresh s/epoch':>15}  {'index s':>7}"
    )
    print(head)
    for r in rows:
        eager = r["files"] * CUBE_BYTES / 2**30
        print(
            f"{r['files']:>5}  {r['files'] * CUBE_BYTES / 1e9:>5.1f}  {eager:>13.1f} GB  "
            f"{r['peak_anon_mb'] - r['base_anon_mb']:>6.0f} MB  {r['pool_mb']:>4.0f} MB  "
            f"{'/'.join(str(v) for v in r['pool_files'].values()):>10}  {r['fill_s']:>6.1f}  "
            f"{r['batches_per_s']:>7.1f}  {r['draw_batches_per_s']:>12.1f}  "
            f"{r['refresh_s']:>15.1f}  {r['prepare_s']:>7.2f}"
        )
    print(
        f"manifest of {n_max} files: SHA-256 of {on_disk / 1e9:.1f} GB took "
        f"{cold['prepare_s']:.1f} s (cold cache, includes indexing); with the warm cache "
        f"{warm['prepare_s']:.2f} s "
        f"({warm['hash_hits']} hits, {warm['hash_misses']} misses)"
    )
    if not args.keep:
        shutil.rmtree(args.root)
    print(
        json.dumps(
            {
                "files": [r["files"] for r in rows],
                "peak_anon_mb": [round(r["peak_anon_mb"] - r["base_anon_mb"], 1) for r in rows],
                "pool_mb": [round(r["pool_mb"], 1) for r in rows],
                "batches_per_s": [round(r["batches_per_s"], 2) for r in rows],
                "draw_batches_per_s": [round(r["draw_batches_per_s"], 2) for r in rows],
                "fill_s": [round(r["fill_s"], 2) for r in rows],
                "hash_cold_s": round(cold["prepare_s"], 1),
                "hash_warm_s": round(warm["prepare_s"], 2),
                "on_disk_gb": round(on_disk / 1e9, 2),
                "memory_mb": args.memory_mb,
                "refresh_files": args.refresh,
                "load_before": round(load[0], 2),
                "load_after": round(load_after[0], 2),
                "deleted": not args.keep,
            }
        )
    )


if __name__ == "__main__":
    main()
