"""``slam info STUDY [STUDY ...]``: each study's metadata as JSON."""

from __future__ import annotations

import argparse
import json

NAME = "info"
HELP = "print a study's metadata (shape, dtype, view, laterality, window, spacing, patient) as JSON"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "study", nargs="+",
        help="multi-frame DICOM, directory of single-frame DICOM files, .zip, .npy/.npz; several studies print "
             "a JSON list (each with its 'source'); several single-frame DICOM files are one series",
    )


def run(args: argparse.Namespace) -> int:
    from slam.errors import SlamError
    from slam.io import load_study, split_studies

    groups = split_studies(args.study)
    # One study at a time: only its metadata is kept, so N studies cost the memory of one.
    infos = []
    for group in groups:
        try:
            info = load_study(group[0] if len(group) == 1 else group).metadata()
        except SlamError as exc:
            named = str(exc).startswith(group[0].name)
            raise SlamError(str(exc) if named or len(groups) == 1 else f"{group[0].name}: {exc}") from None
        infos.append({"source": str(group[0]) if len(group) == 1 else [str(p) for p in group], **info})
    print(json.dumps(infos[0] if len(groups) == 1 else infos, indent=2))
    return 0
