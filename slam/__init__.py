"""SLAM: slice-level attention for digital breast tomosynthesis (DBT).

Packages: ``io`` (DICOM loading/writing, CSV formats), ``imaging`` (display, preprocessing,
synthetic mammogram, viewport, orientation), ``detection`` (config, model, inputs,
post-processing, predictor, baseline, sampling, metrics, weights), ``phantom`` (synthetic
studies), ``commands`` (the CLI's sub-commands).
"""

from slam.errors import SlamError

__all__ = ["SlamError"]
__version__ = "0.1.0"
