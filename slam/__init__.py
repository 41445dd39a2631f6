"""SLAM: slice-level attention for digital breast tomosynthesis (DBT).

Sub-modules: ``io`` (DICOM loading/writing, CSV formats), ``phantom`` (synthetic
studies), ``preprocess``/``sm`` (image processing, synthetic mammogram),
``model``/``inference``/``metrics`` (detector and DBTex evaluation), ``cli``.
"""

from slam.errors import SlamError

__all__ = ["SlamError"]
__version__ = "0.1.0"
