"""Study input/output: DICOM, zip and numpy loading; DICOM/PNG writing; the BCS-DBT and DBTex CSVs."""

from slam.io.limits import LoadLimits
from slam.io.load import ACCEPTED, load_study, load_views, split_studies
from slam.io.study import Study
from slam.io.write import write_derived_dicom, write_png, write_series_dicom, write_volume_dicom

__all__ = [
    "ACCEPTED",
    "LoadLimits",
    "Study",
    "load_study",
    "load_views",
    "split_studies",
    "write_derived_dicom",
    "write_png",
    "write_series_dicom",
    "write_volume_dicom",
]
