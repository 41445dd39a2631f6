"""DICOM written by hand with plain pydicom, the way other writers do it (not by slam.io's writer)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from conftest import breast_volume
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from slam.io import load_study


def classic_multiframe(volume: np.ndarray, *, preamble: bool, signed: bool = False) -> Dataset:
    """A legacy-style multi-frame MG object: top-level window (multi-valued), rescale, ViewPosition, no
    functional groups."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientSex = "ROE^ANN", "HM-1", "F"
    ds.Modality = "MG"
    ds.Laterality = "R"  # series-level tag only, no ImageLaterality
    ds.ViewPosition = "XCCL"  # exaggerated CC: folds into CC
    ds.NumberOfFrames = volume.shape[0]
    ds.Rows, ds.Columns = volume.shape[1:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 14, 13
    ds.PixelRepresentation = 1 if signed else 0
    ds.WindowCenter, ds.WindowWidth = [1800, 1500], [2400, 1000]
    ds.RescaleSlope, ds.RescaleIntercept = 2, -100
    ds.ImagerPixelSpacing = [0.085, 0.085]
    ds.PixelData = volume.astype(np.int16 if signed else np.uint16).tobytes()
    if preamble:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    return ds


def test_classic_multiframe_with_top_level_tags(tmp_path):
    volume = breast_volume(chest_wall="R")
    path = tmp_path / "classic.dcm"
    classic_multiframe(volume, preamble=True).save_as(path, enforce_file_format=True)
    study = load_study(path)
    np.testing.assert_array_equal(study.pixels, volume)
    assert (study.laterality, study.laterality_source, study.view, study.dbtex_view) == ("R", "tag", "CC", "rcc")
    assert (study.window_center, study.window_width) == (1800.0, 2400.0)  # first of the multi-valued window
    assert (study.rescale_slope, study.rescale_intercept) == (2.0, -100.0)
    assert study.pixel_spacing == (0.085, 0.085) and study.bits_stored == 14


def test_raw_dataset_without_preamble_signed(tmp_path):
    """No 128-byte preamble or file meta (implicit VR, as some old writers do), signed pixels."""
    volume = breast_volume(chest_wall="L").astype(np.int16) - 50
    ds = classic_multiframe(volume, preamble=False, signed=True)
    path = tmp_path / "raw.dcm"
    ds.save_as(path, implicit_vr=True, little_endian=True)
    assert path.read_bytes()[128:132] != b"DICM"
    study = load_study(path)
    assert study.pixels.dtype == np.int16
    np.testing.assert_array_equal(study.pixels, volume)
    # The tag says R but the bright edge is on the left: displayed rotated, as the BCS-DBT reader does.
    assert study.laterality == "R" and study.flip_cols and study.flip_rows
    result = subprocess.run([sys.executable, "-m", "slam", "info", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source_format"] == f"DICOM multi-frame ({ImplicitVRLittleEndian.name})"
