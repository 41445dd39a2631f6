"""``slam info STUDY``: the study's metadata as JSON."""

from __future__ import annotations

import argparse
import json

NAME = "info"
HELP = "print a study's metadata (shape, dtype, view, laterality, window, spacing, patient) as JSON"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", nargs="+", help="multi-frame DICOM, single-frame DICOM files or directory, .zip, .npy/.npz")


def run(args: argparse.Namespace) -> int:
    from slam.io import load_study

    study = load_study(args.study[0] if len(args.study) == 1 else args.study)
    print(json.dumps(study.metadata(), indent=2))
    return 0
