"""Writers (derived DICOM, PNG) and the BCS-DBT / DBTex CSV formats."""

from __future__ import annotations

import cv2
import numpy as np
import pydicom
import pytest

from slam.errors import SlamError
from slam.io import load_study, write_derived_dicom, write_png, write_volume_dicom
from slam.io.csv_formats import (
    GroundTruthBox,
    Prediction,
    read_boxes_csv,
    read_labels_csv,
    read_predictions_csv,
    write_boxes_csv,
    write_predictions_csv,
)


def test_derived_dicom_copies_patient_study_with_new_uids(tmp_path, volume_left):
    source_path = write_volume_dicom(tmp_path / "v.dcm", volume_left, laterality="L", view="MLO",
                                     patient_name="DOE^JANE", patient_id="P123", pixel_spacing=(0.6, 0.6))
    study = load_study(source_path)
    image = (np.arange(72 * 56, dtype=np.uint16).reshape(72, 56) * 7) % 65535
    out = write_derived_dicom(tmp_path / "sm.dcm", image.astype(np.uint16), study)
    ds, source = pydicom.dcmread(out), pydicom.dcmread(source_path)
    np.testing.assert_array_equal(ds.pixel_array, image)
    assert (str(ds.PatientName), ds.PatientID, ds.StudyInstanceUID) == ("DOE^JANE", "P123", source.StudyInstanceUID)
    assert ds.SeriesInstanceUID != source.SeriesInstanceUID and ds.SOPInstanceUID != source.SOPInstanceUID
    assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"] and ds.DerivationDescription
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert (ds.ImageLaterality, ds.ViewPosition, [float(v) for v in ds.PixelSpacing]) == ("L", "MLO", [0.6, 0.6])


def test_derived_dicom_rgb_and_deidentified(tmp_path, volume_left):
    study = load_study(write_volume_dicom(tmp_path / "v.dcm", volume_left, patient_name="DOE^JANE",
                                          patient_id="P123", patient_birth_date="19700101"))
    rgb = np.zeros((40, 30, 3), np.uint8)
    rgb[5:10, 5:10] = (255, 0, 0)
    ds = pydicom.dcmread(write_derived_dicom(tmp_path / "sm.dcm", rgb, study, deidentify=True))
    np.testing.assert_array_equal(ds.pixel_array, rgb)
    assert "DOE" not in str(ds.PatientName) and ds.PatientID != "P123" and ds.PatientBirthDate == ""
    assert ds.StudyInstanceUID != study.header.StudyInstanceUID


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_round_trip(tmp_path, dtype):
    image = (np.random.default_rng(0).random((31, 17)) * np.iinfo(dtype).max).astype(dtype)
    back = cv2.imread(str(write_png(tmp_path / "x.png", image)), cv2.IMREAD_UNCHANGED)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[..., 0] = 200  # red stays red (OpenCV writes BGR)
    back = cv2.imread(str(write_png(tmp_path / "c.png", rgb)))
    assert back[0, 0].tolist() == [0, 0, 200]
    with pytest.raises(SlamError):
        write_png(tmp_path / "f.png", image.astype(np.float32))


def test_predictions_csv_round_trip(tmp_path):
    predictions = [Prediction("DBT-P00001", "1.2.3", "lcc", 10.5, 20.0, 30.0, 40.0, 5, 3, 0.875),
                   Prediction("DBT-P00002", "1.2.4", "rmlo", 0.0, 1.0, 2.0, 3.0, 0, 1, 1e-4)]
    path = write_predictions_csv(tmp_path / "p.csv", predictions)
    assert path.read_text().splitlines()[0] == "PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score"
    assert read_predictions_csv(path) == predictions


def test_boxes_csv_round_trip(tmp_path):
    boxes = [GroundTruthBox("DBT-P00001", "1.2.3", "rcc", "1", 20, 100, 120, 40, 44, "cancer", 0, 55)]
    assert read_boxes_csv(write_boxes_csv(tmp_path / "b.csv", boxes)) == boxes


@pytest.mark.parametrize(("text", "expected"), [
    ("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth\n", "missing column(s) Score"),
    ("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\np,s,lcc,1,2,3,4,5,6,high\n", "Score='high' is not a number"),
    ("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\np,s,lcc,1,-2,3,4,5,6,0.5\n", "Width='-2'"),
    ("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\np,s,cc,1,2,3,4,5,6,0.5\n", "View='cc'; accepted"),
    ("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\np,s,lcc,nan,2,3,4,5,6,0.5\n", "X='nan'"),
])
def test_malformed_predictions_csv(tmp_path, text, expected):
    (tmp_path / "p.csv").write_text(text)
    with pytest.raises(SlamError) as info:
        read_predictions_csv(tmp_path / "p.csv")
    assert expected in str(info.value)


def test_malformed_labels_and_boxes(tmp_path):
    (tmp_path / "l.csv").write_text("PatientID,StudyUID,View,Normal,Actionable,Benign\n")
    with pytest.raises(SlamError, match="missing column"):
        read_labels_csv(tmp_path / "l.csv")
    (tmp_path / "b.csv").write_text("PatientID,StudyUID,View,Subject,Slice,X,Y,Width,Height,Class,AD,VolumeSlices\n"
                                    "p,s,lcc,1,60,1,1,5,5,cancer,0,50\n")
    with pytest.raises(SlamError, match="Slice=60 outside a volume of 50 slices"):
        read_boxes_csv(tmp_path / "b.csv")
