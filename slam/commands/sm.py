"""``slam sm STUDY -o OUT``: the synthetic mammogram of a slab (or the whole volume) at native resolution."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from slam.imaging.preprocess import CLAHE_CLIP_LIMIT, CLAHE_TILES
from slam.imaging.sm import LEVEL, MODES, THRESHOLD, WEIGHTINGS, WINDOW

NAME = "sm"
HELP = "make a synthetic mammogram (PNG/JPG or DICOM) from a slab of a study's slices, at native resolution"
_FORMATS = (".png", ".jpg", ".jpeg", ".dcm")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", nargs="+", help="multi-frame DICOM, single-frame DICOM files or directory, .zip, .npy/.npz")
    parser.add_argument("-o", "--output", required=True, help="output file: .png, .jpg or .dcm (derived DICOM)")
    parser.add_argument("--mode", default=MODES[0], help=f"MIP over the slab: {', '.join(MODES)} (default {MODES[0]})")
    parser.add_argument("--weighting", default=WEIGHTINGS[0],
                        help=f"slice weights: {', '.join(WEIGHTINGS)} (default {WEIGHTINGS[0]})")
    parser.add_argument("--center-slice", type=float, default=None, metavar="K",
                        help="slab centre, 0-based slice index (default: the middle slice)")
    parser.add_argument("--num-slices", type=int, default=None, metavar="N",
                        help="slab size; slabs past an end are shifted inside (default: the whole volume)")
    parser.add_argument("--window", type=float, default=WINDOW, metavar="W",
                        help=f"window width on the [0, 1] scale (default {WINDOW})")
    parser.add_argument("--level", type=float, default=LEVEL, metavar="L",
                        help=f"window level on the [0, 1] scale (default {LEVEL})")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, metavar="T",
                        help=f"normalised MIP value above which the MIP is used (default {THRESHOLD})")
    parser.add_argument("--clahe", action="store_true",
                        help=f"apply CLAHE (clip {CLAHE_CLIP_LIMIT}, {CLAHE_TILES} x {CLAHE_TILES} tiles)")
    parser.add_argument("--remove-artifacts", action="store_true", help="zero the artifact band along the breast outline")
    parser.add_argument("--bits", type=int, choices=(8, 16), default=None,
                        help="PNG/DICOM bit depth (default: 8 for PNG/JPG, 16 for DICOM; JPG is always 8)")


def run(args: argparse.Namespace) -> int:
    from slam.errors import SlamError
    from slam.imaging.orientation import flip_image
    from slam.imaging.sm import synthetic_mammogram
    from slam.io import load_study, write_derived_dicom, write_png

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in _FORMATS:
        raise SlamError(f"output {out.name}: unknown format; accepted: {', '.join(_FORMATS)}")
    if suffix in (".jpg", ".jpeg") and args.bits == 16:
        raise SlamError("JPG holds 8-bit images; accepted: --bits 8 or a .png/.dcm output")
    options = dict(mode=args.mode, weighting=args.weighting, threshold=args.threshold, window=args.window,
                   level=args.level, remove_artifacts=args.remove_artifacts, apply_clahe=args.clahe)
    synthetic_mammogram(np.zeros((1, 1, 1), np.uint16), **options)  # reject bad options before a long load
    started = time.perf_counter()
    _say(f"loading {args.study[0]}{' ...' if len(args.study) == 1 else f' (+{len(args.study) - 1} files) ...'}")
    study = load_study(args.study[0] if len(args.study) == 1 else args.study)
    _say(f"loaded {study.depth} x {study.height} x {study.width} {study.pixels.dtype} in "
         f"{time.perf_counter() - started:.1f} s; computing the synthetic mammogram ...")
    started = time.perf_counter()
    result = synthetic_mammogram(study.pixels, center_slice=args.center_slice, num_slices=args.num_slices,
                                 invert=study.invert, **options)
    first, stop = result.slab
    _say(f"slices {first}..{stop - 1} around {result.center_slice:g} in {time.perf_counter() - started:.2f} s")
    bits = args.bits or (16 if suffix == ".dcm" else 8)
    image = np.ascontiguousarray(flip_image(result.image16 if bits == 16 else result.image8, study.flip_rows, study.flip_cols))
    if suffix == ".dcm":
        write_derived_dicom(out, image, study)
    elif suffix == ".png":
        write_png(out, image)
    else:
        import cv2

        out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise SlamError(f"could not write JPG to {out.name}")
    # the one stdout line: what was written (progress went to stderr)
    print(f"{out} ({image.shape[1]} x {image.shape[0]} px, {bits}-bit, {out.stat().st_size / 1024:.1f} KiB)")
    return 0


def _say(message: str) -> None:
    print(f"slam sm: {message}", file=sys.stderr, flush=True)
