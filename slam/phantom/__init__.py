"""Synthetic DBT studies with ground truth, deterministic per seed.

:func:`generate_study` makes one view (breast outline with the chest wall at the edge
given by laterality, skin, 3D power-law fibroglandular texture, pectoral muscle on MLO
views, 0-2 masses that fade away from their central slice, optional calcifications,
noise) in the "classic" style, or a DBT-like study of a style family (``style=``, see
docs/phantom-styles.md); :func:`write_dataset` writes many of them in the BCS-DBT layout with its CSVs.
"""

from slam.phantom.cnr import study_cnrs
from slam.phantom.dataset import write_dataset
from slam.phantom.study import SIZES, Lesion, PhantomStudy, generate_study
from slam.phantom.styles import FAMILIES, HELDOUT, resolve_styles

__all__ = ["FAMILIES", "HELDOUT", "SIZES", "Lesion", "PhantomStudy", "generate_study", "resolve_styles", "study_cnrs",
           "write_dataset"]
