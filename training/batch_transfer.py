"""``cinn-train transfer``: transfer a study's worth of spectral files with a model file, headless.

    cinn-train transfer --model hsi.safetensors --direction "sim→real" data/sim/ more/*.dat \
        --out transferred/ [--format npz] [--device auto] [--samples K --seed S]

Inputs are files, folders (their spectral files, sidecars skipped) or glob patterns, in any format
``napari_cinn.io.read_spectral`` reads. Each output is a spectral file on the model's wavelength
grid with the input's labels, plus ``<name>.provenance.json`` (model, its SHA-256, direction,
device, seed, source file, time), written last: a file whose provenance exists is done and is
skipped on the next run (``--overwrite`` redoes it), so an interrupted run continues where it
stopped. Every file is written to a temporary name and renamed when complete. A file that fails
(unreadable, wrong bands, ...) is reported and the others go on; the exit status is 0 when all
succeeded, 1 when some failed, 2 when nothing could start (bad model, direction or inputs).

``--samples K`` writes K stochastic realisations per input (``<name>_s<k>``, seeds ``S+k``) when
the model file carries the source domain's missing noise (``transfer_image(sample=True)``).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import inspect
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ARROWS = ("→", "->", "2")
FORMATS = ("npz", "hdr", "npy", "tif", "dat")
_SIDECARS = (
    "_labels.npy",
    "_labels.json",
    "_wavelengths.json",
    "_seg.npy",
    "_ind.npy",
    ".provenance.json",
)


class UsageError(ValueError):
    """Nothing can start: the message says what to fix (exit status 2)."""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="spectral files, folders or glob patterns")
    p.add_argument("--model", required=True, help="model file (.safetensors)")
    p.add_argument("--direction", required=True, help='e.g. "sim→real" (or sim->real)')
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--format", default="npz", choices=FORMATS, help="output format (default npz)")
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1")
    p.add_argument("--chunk", type=int, default=None, help="pixels (HSI) / images (PAT) per batch")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--resample", action="store_true", help="interpolate onto the model's grid")
    p.add_argument(
        "--row0",
        type=int,
        default=0,
        help="PAT: rows between the probe surface and the images' first row (depth models)",
    )
    p.add_argument("--samples", type=int, default=0, help="stochastic realisations per file")
    p.add_argument("--seed", type=int, default=0, help="seed of the first realisation")
    p.add_argument("--overwrite", action="store_true", help="redo files that are already done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_direction(text: str, domains: tuple[str, ...]) -> tuple[str, str]:
    """``"sim→real"`` → ``("sim", "real")``, both checked against the model's domains."""
    for arrow in ARROWS:
        if arrow in text:
            src, tgt = (t.strip() for t in text.split(arrow, 1))
            break
    else:
        raise UsageError(f"--direction {text!r}: write it as source→target, e.g. sim→real")
    for name in (src, tgt):
        if name not in domains:
            raise UsageError(f"--direction {text!r}: the model knows domains {list(domains)}")
    if src == tgt:
        raise UsageError(f"--direction {text!r}: source and target are the same domain")
    return src, tgt


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files of every input (folders: their spectral files; patterns: their matches), in order."""
    from napari_cinn.io import READ_EXTENSIONS

    def spectral(p: Path) -> bool:
        name = p.name.lower()
        return (
            p.is_file()
            and p.suffix.lower() in READ_EXTENSIONS
            and not name.startswith(".")
            and not any(name.endswith(s) for s in _SIDECARS)
            and not (p.suffix.lower() == ".dat" and p.with_suffix(".hdr").exists())  # ENVI data
        )

    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if spectral(f))
            if not found:
                raise UsageError(f"{item}: the folder holds no readable spectral files")
        elif p.is_file():
            found = [p]
        else:
            found = sorted(Path(m) for m in glob.glob(item, recursive=True) if spectral(Path(m)))
            if not found:
                raise UsageError(f"{item}: no such file, folder or matching spectral files")
        files += [f for f in found if f not in files]
    return files


@dataclass
class Job:
    """One input and the outputs it becomes."""

    source: Path
    outputs: list[Path]  # one per realisation
    seeds: list[int | None]

    def provenance_path(self, output: Path) -> Path:
        return output.with_name(output.stem + ".provenance.json")

    def done(self) -> bool:
        return all(self.provenance_path(o).is_file() and o.is_file() for o in self.outputs)


def plan_jobs(files: list[Path], out: Path, fmt: str, samples: int, seed: int) -> list[Job]:
    """Output names ``<stem>.<fmt>`` (``<stem>_s<k>``); two inputs of one name are refused."""
    seen: dict[str, Path] = {}
    jobs = []
    for f in files:
        stem = f.name.split(".")[0]
        if stem in seen:
            raise UsageError(
                f"{seen[stem]} and {f} would both be written as {stem}.{fmt}; "
                "transfer them into different --out folders"
            )
        seen[stem] = f
        if samples > 0:
            outs = [out / f"{stem}_s{k}.{fmt}" for k in range(samples)]
            seeds: list[int | None] = [seed + k for k in range(samples)]
        else:
            outs, seeds = [out / f"{stem}.{fmt}"], [None]
        jobs.append(Job(f, outs, seeds))
    return jobs


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json_atomic(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def transfer_one(job: Job, model, src: str, tgt: str, args, context: dict, progress) -> float:
    """Read, transfer and write one input (all its realisations); returns seconds."""
    import numpy as np

    from napari_cinn.core import transfer_image
    from napari_cinn.io import SpectralImage, read_spectral, write_spectral

    t0 = time.perf_counter()
    image = read_spectral(job.source)
    source_sha = _sha256(job.source)
    stochastic = "sample" in inspect.signature(transfer_image).parameters
    for k, (output, seed) in enumerate(zip(job.outputs, job.seeds, strict=True)):
        kwargs = {"sample": True, "seed": seed} if seed is not None else {}
        if args.row0:
            kwargs["row0"] = args.row0
        if seed is not None and not stochastic:
            raise UsageError("this napari_cinn has no stochastic transfer (transfer_image sample)")
        result = transfer_image(
            model,
            image.data,
            src,
            tgt,
            wavelengths=image.wavelengths,
            resample=args.resample,
            chunk=args.chunk,
            device=context["device"],
            progress=lambda done, total, k=k: progress((k + done / total) / len(job.outputs)),
            **kwargs,
        )
        provenance = {
            **context["provenance"],
            "source": str(job.source.resolve()),
            "source_sha256": source_sha,
            "output": output.name,
            "sample": None if seed is None else k,
            "seed": seed,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        out_image = SpectralImage(
            result,
            np.asarray(model.wavelengths, dtype=np.float64),
            image.labels,
            image.label_names,
            {
                "domain": f"{src}→{tgt}",
                "subject": str(image.metadata.get("subject", job.source.stem)),
                "source": str(job.source),
                "description": f"{src}→{tgt} transfer of {job.source.name} with "
                f"{context['provenance']['model']}",
                "provenance": provenance,
            },
        )
        # not done yet (no provenance): whatever lies there is an interrupted earlier attempt
        write_spectral(output, out_image, overwrite=True)
        _write_json_atomic(job.provenance_path(output), provenance)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    from napari_cinn.core import ModelFileError, load_model, resolve_device

    try:
        if args.samples < 0:
            raise UsageError("--samples must be >= 0")
        try:
            model = load_model(args.model)
        except (ModelFileError, OSError) as err:
            raise UsageError(f"--model {args.model}: {err}") from None
        src, tgt = parse_direction(args.direction, tuple(model.domains))
        if args.samples and hasattr(model, "can_sample") and not model.can_sample(src):
            raise UsageError(
                f"--samples: {Path(args.model).name} was trained without the noise domain "
                f"{src!r} lacks (loss.dequantize=matched or camera), so it transfers "
                "deterministically only"
            )
        if args.row0 and getattr(model, "modality", "pat") != "pat":
            raise UsageError(
                f"--row0: {Path(args.model).name} is a {model.modality} model; "
                "only PAT images have a depth"
            )
        if args.row0 < 0:
            raise UsageError(f"--row0 must be 0 or more (rows), got {args.row0}")
        try:
            device = resolve_device(args.device)
        except ValueError as err:
            raise UsageError(str(err)) from None
        files = expand_inputs(args.inputs)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        jobs = plan_jobs(files, out, args.format, args.samples, args.seed)
    except UsageError as err:
        print(f"cinn-train transfer: {err}", file=sys.stderr)
        return 2
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    context = {
        "device": device,
        "provenance": {
            "model": Path(args.model).name,
            "model_path": str(Path(args.model).resolve()),
            "model_sha256": _sha256(Path(args.model)),
            "direction": f"{src}→{tgt}",
            "device": str(device),
            "resampled": bool(args.resample),
            **({"row0": args.row0} if args.row0 else {}),
        },
    }
    todo = [j for j in jobs if args.overwrite or not j.done()]
    skipped = len(jobs) - len(todo)
    failed: list[tuple[Path, str]] = []
    bar = _progress_bar(len(todo), disabled=args.no_progress)
    t0 = time.perf_counter()
    for i, job in enumerate(todo):
        bar.set_postfix_str(job.source.name)

        def progress(fraction: float, i: int = i) -> None:
            bar.n = i + fraction
            bar.refresh()

        try:
            transfer_one(job, model, src, tgt, args, context, progress)
        except KeyboardInterrupt:
            bar.close()
            print("cinn-train transfer: interrupted; run again to continue", file=sys.stderr)
            return 130
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
            failed.append((job.source, f"{type(err).__name__}: {err}"))
            bar.write(f"FAILED {job.source}: {err}", file=sys.stderr)
        bar.n = i + 1
        bar.refresh()
    bar.close()
    done = len(todo) - len(failed)
    print(
        f"cinn-train transfer: {done} transferred, {skipped} already done, {len(failed)} failed "
        f"({time.perf_counter() - t0:.1f} s, {device}); outputs in {out}"
    )
    for path, message in failed:
        print(f"  failed: {path}: {message}", file=sys.stderr)
    return 1 if failed else 0


def _progress_bar(total: int, disabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="file", disable=disabled, dynamic_ncols=True, file=sys.stderr)
