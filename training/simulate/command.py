"""``cinn-train simulate``: write the synthetic HSI or PAT benchmark to a folder.

Example::

    cinn-train simulate hsi --subjects 20 --domain real --seed 0 --out data/hsi_real
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "modality", choices=("hsi", "pat"), help="hyperspectral tissue or PAT forearm"
    )
    parser.add_argument("--subjects", type=int, default=10, help="number of subjects (images)")
    parser.add_argument(
        "--domain",
        choices=("sim", "real"),
        default="sim",
        help="'sim': idealised simulation; 'real': real-like domain",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (output is deterministic)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="image side in pixels (default 64 for hsi, 128 for pat)",
    )
    parser.add_argument("--first", type=int, default=0, help="index of the first subject")
    parser.add_argument(
        "--stem",
        default=None,
        help="file name stem (default '<modality>_<domain>', '<modality>_<domain>_<camera>cam' "
        "with --camera); files are <stem>_<index>.<ext>, or <stem>.<ext> when --subjects is 1",
    )
    parser.add_argument(
        "--camera",
        choices=("sim", "real"),
        default=None,
        help="hsi only: render the --domain tissue through this domain's camera (default: "
        "--domain's own). '--domain sim --camera real' is the ideal sim->real transfer of the "
        "labelled simulated subjects, a ceiling for any transfer method",
    )
    parser.add_argument(
        "--camera-seed",
        dest="camera_seed",
        type=int,
        default=0,
        help="with --camera: seed of the camera's own draws (one realisation per seed)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")


def generate(
    modality: str,
    index: int,
    domain: str,
    seed: int,
    size: int | None,
    camera: str | None = None,
    camera_seed: int = 0,
):
    """Return a :class:`napari_cinn_training.simulate.hsi.Subject` for either modality."""
    if modality == "hsi":
        from napari_cinn_training.simulate.hsi import hsi_subject

        return hsi_subject(
            index, domain, seed, size=size or 64, camera_domain=camera, camera_seed=camera_seed
        )
    from napari_cinn_training.simulate.pat import pat_subject

    return pat_subject(index, domain, seed, size=size or 128)


def _write_manifest(path: Path, manifest: dict, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"refusing to overwrite {path} (pass --overwrite)")
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    from napari_cinn.io import SpectralImage, write_spectral
    from napari_cinn.layers import format_domain

    if args.subjects < 1:
        print("cinn-train simulate: --subjects must be at least 1", file=sys.stderr)
        return 2
    if args.size is not None and not 16 <= args.size <= 2048:
        print("cinn-train simulate: --size must lie in 16..2048 pixels", file=sys.stderr)
        return 2
    if args.camera is not None and args.modality != "hsi":
        print("cinn-train simulate: --camera is implemented for hsi only", file=sys.stderr)
        return 2
    if args.camera_seed and args.camera in (None, args.domain):
        print(
            "cinn-train simulate: --camera-seed needs --camera other than --domain "
            "(the domain's own camera is drawn with --seed)",
            file=sys.stderr,
        )
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    camera = args.camera or args.domain
    what = format_domain(args.domain, None if camera == args.domain else camera)
    default_stem = f"{args.modality}_{args.domain}" + (
        "" if camera == args.domain else f"_{camera}cam"
    )
    stem = args.stem or default_stem
    ext = ".hdr" if args.modality == "hsi" else ".npz"
    files = []
    t0 = time.perf_counter()
    try:
        for index in range(args.first, args.first + args.subjects):
            s = generate(
                args.modality,
                index,
                args.domain,
                args.seed,
                args.size,
                args.camera,
                args.camera_seed,
            )
            name = stem if args.subjects == 1 else f"{stem}_{index:03d}"
            meta = dict(s.metadata, file=name)
            image = SpectralImage(s.cube, s.wavelengths, s.labels, s.label_names, meta)
            written = write_spectral(out / f"{name}{ext}", image, overwrite=args.overwrite)
            files.append(
                {
                    "cube": Path(written[0]).name,
                    "subject": index,
                    "metadata": meta,
                    "shape": list(s.cube.shape),
                }
            )
        manifest = {
            "modality": args.modality,
            "domain": args.domain,
            "seed": args.seed,
            "camera": camera,
            "subjects": args.subjects,
            "first": args.first,
            "wavelengths_nm": [float(w) for w in s.wavelengths],
            "label_names": {str(k): v for k, v in s.label_names.items()},
            "command": "cinn-train simulate " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "",
            "files": files,
        }
        _write_manifest(out / f"{stem}_manifest.json", manifest, args.overwrite)
    except (FileExistsError, ValueError) as err:
        print(f"cinn-train simulate: {err}", file=sys.stderr)
        return 1
    print(
        f"wrote {len(files)} {args.modality} {what} subject(s) to {out} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0
