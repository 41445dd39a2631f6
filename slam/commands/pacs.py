"""``slam pacs search|get|store``: studies on a PACS over DICOMweb (QIDO-RS, WADO-RS, STOW-RS).

The server is ``--url`` or ``SLAM_DICOMWEB_URL``; credentials only from the environment
(``SLAM_DICOMWEB_TOKEN``, or ``SLAM_DICOMWEB_USER`` + ``SLAM_DICOMWEB_PASSWORD``), so they never
appear in a shell history or process list.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

NAME = "pacs"
HELP = "search a PACS over DICOMweb, fetch a study's DBT views as DICOM files, or store DICOM files into it"
_COLUMNS = ("study_uid", "patient_id", "study_date", "accession", "modalities", "series", "instances", "description")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    search = actions.add_parser("search", help="find studies (QIDO-RS); every given filter must match")
    get = actions.add_parser("get", help="download a study's DBT views (WADO-RS) as DICOM files into a folder")
    store = actions.add_parser("store", help="store DICOM files (STOW-RS); refuses instances the server holds")
    for sub in (search, get, store):
        sub.add_argument("--url", default=None, help="DICOMweb root, e.g. http://localhost:8042/dicom-web "
                                                     "(default: $SLAM_DICOMWEB_URL)")
        sub.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    search.add_argument("--patient-id", default=None, help="PatientID (wildcards * ? as the server allows)")
    search.add_argument("--accession", default=None, help="AccessionNumber")
    search.add_argument("--date", default=None, help="StudyDate: YYYYMMDD or YYYYMMDD-YYYYMMDD")
    search.add_argument("--modality", default=None, help="a modality in the study, e.g. MG")
    search.add_argument("--limit", type=int, default=100, help="at most this many studies (default 100)")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    get.add_argument("--study-uid", required=True, help="StudyInstanceUID")
    get.add_argument("-o", "--output", required=True, help="folder for the files (created)")
    store.add_argument("files", nargs="+", help="DICOM files of one study")


def run(args: argparse.Namespace) -> int:
    from slam.io.dicomweb import connect

    client = connect(args.url, timeout=args.timeout)
    return {"search": _search, "get": _get, "store": _store}[args.action](client, args)


def _search(client, args: argparse.Namespace) -> int:
    from slam.io.dicomweb import search_studies

    matches = search_studies(client, patient_id=args.patient_id, accession=args.accession, date=args.date,
                             modality=args.modality, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(m) for m in matches], indent=1))
        return 0
    rows = [[str(getattr(m, c)) for c in _COLUMNS] for m in matches]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(_COLUMNS)]
    for row in [list(_COLUMNS), *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(matches)} stud{'y' if len(matches) == 1 else 'ies'}", file=sys.stderr)
    return 0


def _get(client, args: argparse.Namespace) -> int:
    from slam.errors import SlamError
    from slam.io.dicomweb import list_instances, retrieve_instance

    views = [i for i in list_instances(client, args.study_uid) if i.is_dbt]
    if not views:
        raise SlamError(f"study {args.study_uid} holds no multi-frame DBT image")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for number, view in enumerate(views, start=1):
        ds = retrieve_instance(client, view)
        # File names from the server only when they are plain UIDs: nothing it sends picks a path.
        name = view.sop_uid if re.fullmatch(r"[0-9.]{1,64}", view.sop_uid) else f"view-{number}"
        ds.save_as(out / f"{name}.dcm", enforce_file_format=True)
        print(f"[{number}/{len(views)}] {view.series_description or view.series_uid}: {view.frames} frames -> "
              f"{out / (name + '.dcm')}", flush=True)
    return 0


def _store(client, args: argparse.Namespace) -> int:
    import pydicom

    from slam.errors import SlamError
    from slam.io.dicomweb import store_instances

    datasets = []
    for file in args.files:
        try:
            datasets.append(pydicom.dcmread(file))
        except (pydicom.errors.InvalidDicomError, OSError) as exc:
            raise SlamError(f"{Path(file).name}: not a readable DICOM file ({type(exc).__name__})") from None
    stored = store_instances(client, datasets)
    print(f"stored {len(stored)} instance(s) into study {datasets[0].StudyInstanceUID}")
    return 0
