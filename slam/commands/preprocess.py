"""``slam preprocess STUDY -o OUT``: AWA denoising, border-artifact removal and CLAHE on every slice."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from slam.imaging.preprocess import PADDINGS

NAME = "preprocess"
HELP = "preprocess every slice of a study (AWA denoising, border-artifact removal, CLAHE) into a uint8 .dcm or .npz"
_FORMATS = (".dcm", ".npz")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", nargs="+", help="multi-frame DICOM, single-frame DICOM files or directory, .zip, .npy/.npz")
    parser.add_argument("-o", "--output", required=True,
                        help="output: .dcm (multi-frame DBT DICOM, uint8) or .npz (arrays 'volume', 'laterality', "
                             "'view', 'pixel_spacing'); stored orientation, as the input")
    parser.add_argument("--workers", type=int, default=2, help="threads (default 2)")
    parser.add_argument("--padding", choices=tuple(PADDINGS), default=next(iter(PADDINGS)),
                        help="Wiener filter border (default zero, as scipy)")
    parser.add_argument("--no-artifacts", action="store_true", help="skip border-artifact removal")
    parser.add_argument("--no-clahe", action="store_true", help="skip CLAHE")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from slam.errors import SlamError
    from slam.imaging.preprocess import preprocess_volume
    from slam.io import load_study, write_volume_dicom

    out = Path(args.output)
    if out.suffix.lower() not in _FORMATS:
        raise SlamError(f"output {out.name}: unknown format; accepted: {', '.join(_FORMATS)}")
    started = time.perf_counter()
    print(f"slam preprocess: loading {args.study[0]} ...", file=sys.stderr, flush=True)
    study = load_study(args.study[0] if len(args.study) == 1 else args.study)
    print(f"slam preprocess: loaded {study.depth} x {study.height} x {study.width} {study.pixels.dtype} in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with tqdm(total=study.depth, unit="slice", desc="slam preprocess", file=sys.stderr) as bar:
        volume = preprocess_volume(study.pixels, workers=args.workers, padding=args.padding, invert=study.invert,
                                   remove_artifacts=not args.no_artifacts, apply_clahe=not args.no_clahe,
                                   progress=lambda done, total: bar.update(done - bar.n))
    print(f"slam preprocess: {study.depth} slices in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    spacing = study.pixel_spacing or (0.1, 0.1)
    if out.suffix.lower() == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(out, volume=volume, laterality=np.array(study.laterality), view=np.array(study.view),
                 pixel_spacing=np.array(spacing, np.float64))
    else:
        patient = study.patient
        write_volume_dicom(out, volume, laterality=study.laterality, view=study.view, pixel_spacing=spacing,
                           slice_spacing=study.slice_spacing or 1.0, window_center=127.5, window_width=256.0,
                           patient_name=patient.get("PatientName", ""), patient_id=patient.get("PatientID", ""),
                           patient_sex=patient.get("PatientSex", ""), study_uid=patient.get("StudyInstanceUID", ""),
                           series_description="SLAM preprocessed (AWA, border artifacts, CLAHE)")
    print(f"slam preprocess: wrote {out}", file=sys.stderr)
    return 0
