"""Seeded hostile inputs for every reader family and for model files (used by the fuzz test in
the suite and by ``tests/fuzz/run_fuzz.py``).

``make_case(family, i, folder)`` writes case ``i`` of ``family`` into an empty ``folder`` and
returns ``(path to open, mutation name)``; the same ``(family, i)`` always gives the same files.
``run_case(family, path)`` opens it the way a user would (``read_spectral`` + a read of the first
band, the napari reader hook, or ``load_model`` + a transfer) and returns an outcome:

- ``"ok"``: read fine; ``"refused"``: the layer's own error with a message naming the file;
- ``"ugly:<Type>"``: any other exception, or the layer's error marked ``unexpected`` (a failure
  no check anticipated, wrapped by the last-resort handler);
- ``"garbage"``: a model loaded but turned finite input into NaN.

Mutations: byte flips, truncations, random spans, huge integers written over the header, and
per format lying headers, bad types, pickles, decompression bombs, external links/storage, and
sidecars that are FIFOs, links to ``/dev/zero``, non-UTF-8 or of the wrong dtype.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

FAMILIES = ("envi", "tivita", "numpy", "tiff", "hdf5", "model")
WL = [500.0 + 10 * i for i in range(8)]
_BASE: dict[str, dict[str, bytes]] = {}


class _Payload:
    def __reduce__(self):  # a pickle that would run code if anything unpickled it
        return (os.system, ("echo PICKLE-EXECUTED > /tmp/napari_cinn_fuzz_pickle",))


def _cube(rng) -> np.ndarray:
    return rng.uniform(0.1, 1.0, (len(WL), 6, 5)).astype(np.float32)


def _write_base(family: str, folder: Path, variant: int = 0) -> Path:
    from napari_cinn.io import SpectralImage, write_spectral

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (6, 5)).astype(np.int32)
    image = SpectralImage(
        _cube(rng), np.array(WL), labels, {0: "bg", 1: "a", 2: "b"}, {"domain": "sim"}
    )
    if family == "envi":
        return write_spectral(folder / "cube.hdr", image)[0]
    if family == "tivita":
        return write_spectral(folder / "cube.dat", image)[0]
    if family == "numpy":
        return write_spectral(folder / "cube.npz", image)[0]
    if family == "tiff":
        return write_spectral(folder / "cube.tif", image)[0]
    if family == "hdf5":
        import h5py

        path = folder / "cube.hdf5"
        with h5py.File(path, "w") as fh:
            g = fh.create_group("simulations/reconstructed_data")
            for w in (700, 750, 800):
                g.create_dataset(str(w), data=rng.uniform(0, 1, (5, 6)).astype(np.float32))
            fh.create_dataset("settings/wavelengths", data=[700.0, 750.0, 800.0])
            fh.create_dataset(
                "simulations/simulation_properties/seg", data=rng.integers(0, 3, (5, 6))
            )
        return path
    from napari_cinn.core import build_model, save_model

    if variant == 0:
        model = build_model("hsi", wavelengths=WL, n_blocks=2, hidden=8)
    else:
        model = build_model(
            "pat", wavelengths=WL[:4], n_scales=2, blocks_per_scale=[1, 1], hidden=4
        )
    return save_model(model, folder / "m.safetensors")


def _base(family: str, folder: Path, variant: int = 0) -> dict[str, bytes]:
    """The valid files of a family (cached as bytes), keyed by file name."""
    key = f"{family}{variant if family == 'model' else ''}"
    if key not in _BASE:
        tmp = folder / f"_base_{key}"
        tmp.mkdir()
        _write_base(family, tmp, variant)
        _BASE[key] = {p.name: p.read_bytes() for p in sorted(tmp.iterdir())}
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    return dict(_BASE[key])


# ----------------------------------------------------------------------------- generic mutations
def _bytes_mutation(rng, data: bytes) -> tuple[bytes, str]:
    b = bytearray(data)
    kind = int(rng.integers(6))
    if not b:
        return bytes(rng.integers(0, 256, 16, dtype=np.uint8)), "random"
    if kind == 0:
        return bytes(b[: int(rng.integers(0, len(b)))]), "truncate"
    if kind == 1:
        for _ in range(int(rng.integers(1, 9))):
            b[int(rng.integers(len(b)))] = int(rng.integers(256))
        return bytes(b), "byte flips"
    if kind == 2:
        i = int(rng.integers(len(b)))
        n = int(rng.integers(1, 64))
        b[i : i + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        return bytes(b), "random span"
    if kind == 3:  # a huge or negative number over a header field
        i = int(rng.integers(min(len(b), 512)))
        val = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0, 2**62][int(rng.integers(5))]
        fmt = ["<Q", ">Q", "<I", ">I"][int(rng.integers(4))]
        raw = struct.pack(fmt, val % (2**64 if "Q" in fmt else 2**32))
        b[i : i + len(raw)] = raw
        return bytes(b), "huge int"
    if kind == 4:
        i = int(rng.integers(len(b)))
        return bytes(b[:i] + b[i : i + int(rng.integers(1, 256))] * 3 + b[i:]), "duplicated span"
    return pickle.dumps(_Payload()), "pickle payload"


def _sidecar_mutation(rng, stem: str, folder: Path) -> str:
    """Write one hostile sidecar beside ``stem``; returns its description."""
    which = ["_labels.npy", "_labels.json", "_wavelengths.json", "_wavelengths.txt"][
        int(rng.integers(4))
    ]
    target = folder / f"{stem}{which}"
    kind = int(rng.integers(7))
    if target.exists():
        target.unlink()
    if kind == 0:
        os.mkfifo(target)
        return f"fifo {which}"
    if kind == 1:
        target.symlink_to("/dev/zero")
        return f"/dev/zero {which}"
    if kind == 2:
        target.write_bytes(b"\xff\xfe\x00garbage\x80\x81")
        return f"non-utf8 {which}"
    if which == "_labels.npy":
        arrays = [
            np.array([["a"] * 5] * 6),
            np.array([[b"x"] * 5] * 6),
            np.zeros((6, 5), "datetime64[s]"),
            np.full((6, 5), 0.5),
            np.zeros((3, 3), np.int32),
            np.zeros((6, 5), complex),
        ]
        arr = arrays[int(rng.integers(len(arrays)))]
        with open(target, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        return f"labels dtype {arr.dtype} {arr.shape}"
    texts = [
        "[1, 2, 3]",
        '{"1": ' * 50_000 + "1" + "}" * 50_000,
        '{"wavelengths": "abc"}',
        '{"wavelengths": [1, "x", null]}',
        '{"metadata": 5, "wavelengths": [1]}',
        "NaN, inf, 3",
        "[" + ", ".join(["1e400"] * 8) + "]",
    ]
    target.write_text(texts[int(rng.integers(len(texts)))])
    return f"bad text {which}"


def _cached(key: str, make) -> bytes:
    if key not in _BASE:
        _BASE[key] = {"": make()}
    return _BASE[key][""]


def _tiff_bomb() -> bytes:
    import tifffile

    buf = io.BytesIO()  # ~130 MB decoded, a few hundred KB stored
    tifffile.imwrite(
        buf, np.zeros((2, 4096, 4096), np.float32), compression="zlib", tile=(512, 512)
    )
    return buf.getvalue()


def _npz_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        arr = io.BytesIO()
        np.save(arr, np.zeros((3, 4000, 4000), np.float32))  # compresses to ~200 KB
        zf.writestr("data.npy", arr.getvalue())
    return buf.getvalue()


# ----------------------------------------------------------------------------- per format
def _envi_header_mutation(rng, text: str) -> tuple[str, str]:
    fields = {
        "samples": ["-1", "0", "99999999999", "abc", "2.5", ""],
        "lines": ["-5", "0", "4294967297", "x"],
        "bands": ["0", "-8", "1000000000", "eight"],
        "data type": ["6", "9", "99", "abc", "-1", "12"],
        "byte order": ["2", "-1", "x"],
        "interleave": ["xyz", "BIL", "bip", ""],
        "header offset": ["-100", "99999999999", "x"],
        "reflectance scale factor": ["nan", "0", "inf", "-1", "x"],
        "wavelength": [
            "{1, 2}",
            "{a, b, c, d, e, f, g, h}",
            "{" + ",".join(["nan"] * 8) + "}",
            "{1,",
        ],
        "major frame offsets": ["{1, 2}"],
        "file type": ["ENVI Spectral Library"],
    }
    key = list(fields)[int(rng.integers(len(fields)))]
    value = fields[key][int(rng.integers(len(fields[key])))]
    lines = [ln for ln in text.splitlines() if not ln.lower().startswith(key)]
    lines.append(f"{key} = {value}")
    if rng.random() < 0.05:  # many lines: the quadratic parser's worst case
        lines.append("description = {" + "\n".join(f"line {i}" for i in range(60_000)) + "}")
    return "\n".join(lines) + "\n", f"header {key}={value[:20]}"


def _npz_mutation(rng, folder: Path, name: str) -> str:
    kind = int(rng.integers(7))
    path = folder / name
    arrays: dict[str, np.ndarray] = {"data": _cube(np.random.default_rng(1))}
    if kind == 0:
        arrays["wavelengths"] = np.array(["a"] * len(WL))
    elif kind == 1:
        arrays["labels"] = np.array([["x"] * 5] * 6)
    elif kind == 2:
        arrays["metadata"] = np.array("{not json")
        arrays["label_names"] = np.array("[1, 2]")
    elif kind == 3:
        path.write_bytes(_cached("npz bomb", _npz_bomb))
        return "zip bomb (192 MB of zeros)"
    elif kind == 4:  # a lying header inside the zip
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f4", "fortran_order": False, "shape": (8, 100000, 100000)}
        )
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("data.npy", buf.getvalue() + b"\0" * 64)
        return "npz header lies"
    elif kind == 5:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("data.npy", pickle.dumps(_Payload()))
        return "pickle inside npz"
    else:
        arrays["data"] = np.array([{"a": 1}], dtype=object)
        np.savez(path, **{k: v for k, v in arrays.items()})
        return "object array"
    np.savez(path, **arrays)
    return f"npz kind {kind}"


def _npy_case(rng, folder: Path) -> tuple[Path, str]:
    path = folder / "cube.npy"
    kind = int(rng.integers(5))
    if kind == 0:
        np.save(path, np.zeros((6, 5, 3), np.uint8))
        return path, "rgb npy"
    if kind == 1:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f4", "fortran_order": False, "shape": (8, 2**20, 2**20)}
        )
        path.write_bytes(buf.getvalue() + b"\0" * 128)
        return path, "npy header lies"
    if kind == 2:
        path.write_bytes(pickle.dumps(_Payload()))
        return path, "pickle as npy"
    np.save(path, _cube(rng))
    if kind == 3:
        return path, f"npy + {_sidecar_mutation(rng, 'cube', folder)}"
    data, how = _bytes_mutation(rng, path.read_bytes())
    path.write_bytes(data)
    return path, f"npy {how}"


def _tiff_case(rng, folder: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    import tifffile

    path = folder / "cube.tif"
    kind = int(rng.integers(6))
    if kind == 0:
        path.write_bytes(_cached("tiff bomb", _tiff_bomb))
        return path, "tiled zlib bomb"
    if kind == 1:
        tifffile.imwrite(path, _cube(rng), metadata={"wavelengths": "abc"})
        return path, "wavelengths as a string"
    if kind == 2:
        tifffile.imwrite(path, np.zeros((6, 5, 3), np.uint8), photometric="rgb")
        return path, "rgb tiff"
    if kind == 3:
        tifffile.imwrite(path, np.zeros((5, 6, 5), np.uint16))
        return path, "grey z-stack"
    path.write_bytes(files["cube.tif"])
    if kind == 4:
        return path, f"tiff + {_sidecar_mutation(rng, 'cube', folder)}"
    data, how = _bytes_mutation(rng, files["cube.tif"])
    path.write_bytes(data)
    return path, f"tiff {how}"


def _hdf5_case(rng, folder: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    import h5py

    path = folder / "cube.hdf5"
    kind = int(rng.integers(16))
    if kind >= 12:
        return _patato_case(rng, path, kind - 12)
    if kind >= 9:
        path.write_bytes(files["cube.hdf5"])
        if kind == 9:
            return path, f"h5 + {_sidecar_mutation(rng, 'cube', folder)}"
        data, how = _bytes_mutation(rng, files["cube.hdf5"])
        path.write_bytes(data)
        return path, f"h5 {how}"
    with h5py.File(path, "w") as fh:
        g = fh.create_group("simulations/reconstructed_data")
        if kind == 0:
            fh["data"] = h5py.ExternalLink("/etc/hosts", "/x")
            what = "external link"
        elif kind == 1:
            fh.create_dataset("data", shape=(8,), dtype="u1", external=[("/etc/passwd", 0, 8)])
            what = "external storage"
        elif kind == 2:
            fh["a"] = h5py.SoftLink("/b")
            fh["b"] = h5py.SoftLink("/a")
            fh["data"] = h5py.SoftLink("/a")
            what = "soft-link loop"
        elif kind == 3:
            g.create_group("700")
            what = "plane is a group"
        elif kind == 4:
            fh.create_dataset("data", data=3.0)
            what = "scalar data"
        elif kind == 5:
            fh.create_dataset("data", shape=(8, 20000, 20000), dtype="f4", chunks=(1, 100, 100))
            what = "never-written chunked dataset"
        elif kind == 6:
            fh.create_dataset("data", data=np.array([[[b"ab"]]]))
            what = "string data"
        elif kind == 7:
            fh.create_dataset("data", data=_cube(rng))
            fh.create_dataset("wavelengths", data=np.array([b"x"] * len(WL)))
            fh.create_dataset("labels", data=np.array([["s"] * 5] * 6, dtype="S1"))
            what = "string wavelengths and labels"
        else:
            g["700"] = h5py.SoftLink("/nowhere")
            what = "dangling soft link"
    return path, what


def _patato_case(rng, path: Path, kind: int) -> tuple[Path, str]:
    """A patato file (``/recons/<alg>/0`` of (frames, wl, z, y, x)), valid or broken."""
    import h5py

    with h5py.File(path, "w") as fh:
        fh["wavelengths"] = np.array([700.0, 750.0, 800.0])
        g = fh.create_group("recons/bp")
        shape = (2, 3, 1, 6, 5)
        if kind == 0:
            ds = g.create_dataset("0", data=rng.uniform(0, 1, shape).astype(np.float32))
            for tag in ("RECONSTRUCTION_FIELD_OF_VIEW_X", "RECONSTRUCTION_FIELD_OF_VIEW_Y"):
                ds.attrs[tag] = 0.02
            roi = fh.create_group("rois/artery_0")
            bad = [np.array([[b"a", b"b"]] * 3), np.zeros((7,)), np.full((4, 2), np.nan)]
            roi["0"] = bad[int(rng.integers(3))]
            what = "patato with a broken ROI"
        elif kind == 1:
            g.create_dataset("0", data=np.array([[[[[b"x"]]]]]))
            what = "patato string reconstruction"
        elif kind == 2:
            ds = g.create_dataset("0", data=rng.uniform(0, 1, shape).astype(np.float32))
            ds.attrs["wavelengths"] = "abc" if rng.random() < 0.5 else np.array([1.0])
            what = "patato wavelengths of the wrong type"
        else:
            g.create_dataset(
                "0", shape=(50, 16, 1, 2000, 2000), dtype="f4", chunks=(1, 1, 1, 100, 100)
            )
            what = "patato never-written reconstruction (12.8 GB declared)"
    return path, what


def _model_case(rng, folder: Path) -> tuple[Path, str]:
    files = _base("model", folder, int(rng.integers(2)))
    raw = files["m.safetensors"]
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    data = bytearray(raw[8 + n :])
    meta = json.loads(header["__metadata__"]["napari_cinn"])
    path = folder / "m.safetensors"
    kind = int(rng.integers(12))
    how = f"model kind {kind}"
    tensors = [k for k in header if k != "__metadata__"]
    if kind == 0:
        key = ["n_blocks", "hidden", "clamp", "n_classes", "blocks_per_scale", "n_scales", "norm"][
            int(rng.integers(7))
        ]
        value = [100000, -1, 0, float("nan"), "x", None, [100000, 1], 2.5, 10**9][
            int(rng.integers(9))
        ]
        meta["hyper"][key] = value
        how = f"hyper {key}={value!r}"[:40]
    elif kind == 1:
        meta["wavelengths"] = [w + 1.0 for w in meta["wavelengths"]]
        how = "shifted wavelengths"
    elif kind == 2:
        t = tensors[int(rng.integers(len(tensors)))]
        field = ["shape", "data_offsets", "dtype"][int(rng.integers(3))]
        header[t][field] = [[], ["a", "b"], "XX", [0, 10**12], None, [5, 1]][int(rng.integers(6))]
        how = f"tensor {field} broken"
    elif kind == 3:
        a, b = rng.choice(len(tensors), 2, replace=False)
        ta, tb = tensors[a], tensors[b]
        header[ta]["data_offsets"], header[tb]["data_offsets"] = (
            header[tb]["data_offsets"],
            header[ta]["data_offsets"],
        )
        how = "swapped tensor offsets"
    elif kind == 4:
        t = tensors[int(rng.integers(len(tensors)))]
        header[t]["dtype"] = "I32"
        how = "reinterpreted dtype"
    elif kind == 5:
        header["__metadata__"] = ["a", "b"] if rng.random() < 0.5 else {"napari_cinn": 5}
        how = "__metadata__ of the wrong type"
    elif kind == 6:
        deep = "[" * 50_000 + "]" * 50_000
        blob = deep.encode()
        path.write_bytes(struct.pack("<Q", len(blob)) + blob)
        return path, "50,000-deep JSON"
    elif kind in (7, 8):  # overwrite a buffer in the data section
        name = [k for k in tensors if k.endswith(("norm_std", "w_perm", "ref_norm"))]
        t = name[int(rng.integers(len(name)))]
        lo, hi = header[t]["data_offsets"]
        fill = (
            np.zeros((hi - lo) // 4, np.float32)
            if kind == 7
            else np.ones((hi - lo) // 4, np.float32)
        )
        data[lo:hi] = fill.tobytes()
        how = f"{t.rsplit('.', 1)[-1]} all {'0' if kind == 7 else '1'}"
    elif kind == 9:
        raw2, how = _bytes_mutation(rng, raw)
        path.write_bytes(raw2)
        return path, f"model {how}"
    elif kind == 10:
        data[int(rng.integers(len(data)))] ^= 0xFF
        how = "one flipped weight byte"
    else:
        path.write_bytes(b"PK\x03\x04" + bytes(rng.integers(0, 256, 200, dtype=np.uint8)))
        return path, "zip checkpoint"
    with contextlib.suppress(TypeError):
        header["__metadata__"]["napari_cinn"] = json.dumps(meta)
    if rng.random() < 0.3:  # a writer that also updates the hash: the contents checks must hold
        how += " (re-hashed)"
        _rehash(header, bytes(data))
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(data))
    return path, how


def _rehash(header: dict, data: bytes) -> None:
    try:
        from napari_cinn.core.model_hash import HASH_KEY, _digest
    except ImportError:
        return
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not isinstance(meta.get("napari_cinn"), str):
        return
    try:
        items = [
            (k, v["dtype"], v["shape"], data[v["data_offsets"][0] : v["data_offsets"][1]])
            for k, v in header.items()
            if k != "__metadata__"
        ]
        meta[HASH_KEY] = _digest(meta["napari_cinn"], items)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return


def make_case(family: str, i: int, folder: Path) -> tuple[Path, str]:
    """Write case ``i`` of ``family`` into the empty ``folder``; returns (path, mutation)."""
    rng = np.random.default_rng([FAMILIES.index(family), i])
    folder = Path(folder)
    if family == "model":
        return _model_case(rng, folder)
    files = _base(family, folder)
    if family == "numpy" and rng.random() < 0.4:
        return _npy_case(rng, folder)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    main = {
        "envi": "cube.hdr",
        "tivita": "cube.dat",
        "numpy": "cube.npz",
        "tiff": "cube.tif",
        "hdf5": "cube.hdf5",
    }[family]
    path = folder / main
    r = rng.random()
    if r < 0.2:
        return path, _sidecar_mutation(rng, "cube", folder)
    if family == "envi" and r < 0.6:
        text, how = _envi_header_mutation(rng, files["cube.hdr"].decode())
        path.write_text(text)
        if rng.random() < 0.1:
            (folder / "cube.img").unlink()
            os.mkfifo(folder / "cube.img")
            how += " + fifo .img"
        return path, how
    if family == "envi" and r < 0.7:  # an ESRI/ArcGIS header with a bad value, or the .img opened
        vals = {
            "NROWS": "6",
            "NCOLS": "5",
            "NBANDS": "8",
            "NBITS": "32",
            "PIXELTYPE": "FLOAT",
            "LAYOUT": "BSQ",
            "BYTEORDER": "I",
        }
        key = list(vals)[int(rng.integers(len(vals)))]
        vals[key] = ["-1", "0", "x", "99999999", "BOGUS", "7", ""][int(rng.integers(7))]
        path.write_text("\n".join(f"{k} {v}" for k, v in vals.items()) + "\n")
        if rng.random() < 0.5:
            return folder / "cube.img", f"data file opened, ESRI {key}={vals[key]}"
        return path, f"ESRI header {key}={vals[key]}"
    if family == "envi" and r < 0.8:
        data, how = _bytes_mutation(rng, files["cube.img"])
        (folder / "cube.img").write_bytes(data)
        return path, f"img {how}"
    if family == "numpy" and r < 0.6:
        path.unlink()
        return path, _npz_mutation(rng, folder, main)
    if family == "tiff":
        return _tiff_case(rng, folder, files)
    if family == "hdf5":
        return _hdf5_case(rng, folder, files)
    data, how = _bytes_mutation(rng, files[main])
    path.write_bytes(data)
    return path, how


def run_case(family: str, path: Path, hook: bool = True) -> str:
    """Open ``path`` as a user would; returns the outcome (see the module docstring)."""
    if family == "model":
        return _run_model(path)
    from napari_cinn.io import SpectralFileError, read_spectral

    outcome = "ok"
    try:
        image = read_spectral(path)
        np.asarray(image.data[0])
        if image.labels is not None:
            np.asarray(image.labels)
    except SpectralFileError as err:
        outcome = (
            f"ugly:unexpected {type(err.__cause__).__name__}"
            if getattr(err, "unexpected", False)
            else "refused"
        )
        if outcome == "refused" and str(path.name) not in str(err) and path.stem not in str(err):
            outcome = "ugly:no file name"
    except Exception as err:  # noqa: BLE001 - what the fuzz is looking for
        outcome = f"ugly:{type(err).__name__}"
    if hook and not outcome.startswith("ugly"):
        outcome = _run_hook(path) or outcome
    return outcome


def _run_hook(path: Path) -> str | None:
    from napari_cinn.io import _napari

    seen: list[str] = []
    old = _napari._notify_error, _napari._notify_warning
    _napari._notify_error = seen.append
    _napari._notify_warning = lambda m: None
    try:
        reader = _napari.get_reader(str(path))
        if reader is not None:
            reader(str(path))
    except Exception as err:  # noqa: BLE001
        return f"ugly:hook {type(err).__name__}"
    finally:
        _napari._notify_error, _napari._notify_warning = old
    return "ugly:hook several notifications" if len(seen) > 1 else None


def _run_model(path: Path) -> str:
    import torch

    from napari_cinn.core import load_model
    from napari_cinn.core.bundle import ModelFileError

    try:
        model = load_model(path)
    except ModelFileError as err:
        if getattr(err, "unexpected", False):
            return f"ugly:unexpected {type(err.__cause__).__name__}"
        return "refused"
    except Exception as err:  # noqa: BLE001
        return f"ugly:{type(err).__name__}"
    try:
        x = torch.rand(3, model.n_bands) + 0.5
        if model.modality == "pat":
            m = model.spatial_multiple
            x = torch.rand(1, model.n_bands, 2 * m, 2 * m) + 0.5
        with torch.no_grad():
            y = model.transfer(x, 0, 1)
    except Exception as err:  # noqa: BLE001
        return f"ugly:transfer {type(err).__name__}"
    return "ok" if bool(torch.isfinite(y).all()) else "garbage"
