"""``slam phantom OUT_DIR --n N --seed S [--size small|full] [--style NAME|train|mixed|heldout|all]``:
synthetic DBT studies with ground truth (``--examples``, ``--exam``: the repository's fixed sets)."""

from __future__ import annotations

import argparse
import time

NAME = "phantom"
HELP = "generate synthetic DBT studies with ground truth in the BCS-DBT layout (DICOM + 3 CSVs)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", help="output folder (created); gets Breast-Cancer-Screening-DBT/ and the CSVs")
    parser.add_argument("--n", type=int, default=10, help="number of studies (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0); same seed, same files")
    parser.add_argument("--size", choices=("small", "medium", "full"), default="small",
                        help="small: 384x320 px at 0.64 mm (tests, CPU training); medium: 1229x998 at 0.2 mm; "
                             "full: 2457x1996 at 0.1 mm (BCS-DBT scale). Default small")
    parser.add_argument("--transfer-syntax", choices=("explicit", "rle", "jpeg2000", "jpegls"), default="explicit",
                        help="DICOM pixel encoding (all lossless; default explicit = uncompressed)")
    parser.add_argument("--style", default="classic",
                        help="classic (default), a style family (dense-powerlaw, fatty-powerlaw, fibrous, cluttered), "
                             "train or mixed (every family but the held-out 'cluttered'), heldout, all, or a "
                             "comma-separated list; studies cycle through the selection (docs/phantom-styles.md)")
    parser.add_argument("--examples", action="store_true",
                        help="write the repository's fixed example set instead (ignores --n, --seed, --size)")
    parser.add_argument("--exam", action="store_true",
                        help="write the example exam instead: RCC, LCC, RMLO, LMLO of one patient (examples/exam)")


def run(args: argparse.Namespace) -> int:
    from slam.phantom.dataset import write_dataset
    from slam.phantom.exam import write_exam
    from slam.phantom.examples import write_examples

    start = time.perf_counter()

    def report(i: int, n: int, study, path) -> None:
        lesions = ", ".join(f"{les.cls} {les.diameter_mm:.0f} mm @ slice {les.slice}" for les in study.lesions)
        print(f"[{i}/{n}] {study.patient_id} {study.dbtex_view} {study.depth}x{study.height}x{study.width} "
              f"{study.style} {study.label}{': ' + lesions if lesions else ''} -> {path} ({time.perf_counter() - start:.1f} s)",
              flush=True)

    if args.examples:
        out = write_examples(args.out_dir, progress=report)
    elif args.exam:
        out = write_exam(args.out_dir, progress=report)
    else:
        out = write_dataset(args.out_dir, args.n, args.seed, args.size, args.transfer_syntax, progress=report,
                            styles=args.style)
    extra = "" if args.examples or args.exam else ", studies.csv, lesions.csv"
    print(f"wrote {out}/file-paths.csv, labels.csv, boxes.csv{extra}")
    return 0
