"""Stored <-> display orientation on non-square, flipped studies: boxes map back to stored pixels."""

from __future__ import annotations

import numpy as np
from conftest import breast_volume

from slam.io import load_study, write_volume_dicom


def test_flipped_study_maps_boxes_back(tmp_path):
    # Stored with the chest wall on the LEFT but tagged RIGHT: BCS-DBT's reader rotates it 180 degrees.
    volume = breast_volume(rows=90, cols=50, chest_wall="L")
    volume[5, 10:20, 30:45] = 4000  # a marker: rows 10..19, cols 30..44 in stored pixels
    study = load_study(write_volume_dicom(tmp_path / "v.dcm", volume, laterality="R", bits_stored=12))
    assert study.laterality == "R" and study.flip_rows and study.flip_cols
    display = study.display_slice(5)
    np.testing.assert_array_equal(display, volume[5, ::-1, ::-1])
    ys, xs = np.nonzero(display == 4000)
    box_display = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    assert box_display == (5, 70, 15, 10)  # the 90 x 50 image rotated: x' = 50-45, y' = 90-20
    assert study.box_to_stored(*box_display) == (30, 10, 15, 10)
    assert study.box_to_display(30, 10, 15, 10) == box_display
    # The right edge of the display is now the bright one, as the convention wants for a right view.
    assert display[:, -3:].mean() > display[:, :3].mean()


def test_unflipped_study_is_identity(tmp_path):
    volume = breast_volume(rows=90, cols=50, chest_wall="R")
    study = load_study(write_volume_dicom(tmp_path / "v.dcm", volume, laterality="R"))
    assert not study.flip_cols
    assert study.box_to_stored(3, 4, 5, 6) == (3, 4, 5, 6)
    assert np.shares_memory(study.display_volume(), study.pixels)
