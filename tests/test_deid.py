"""De-identification to PS3.15 Annex E (Basic Application Level Confidentiality Profile), on real files."""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from slam.io import load_study, write_derived_dicom, write_volume_dicom
from slam.io.deid import ACTIONS, deidentify

# One value per identifying attribute the profile removes or replaces, written into a real file.
_IDENTIFYING = {
    "PatientBirthDate": "19700101", "PatientAge": "056Y", "PatientAddress": "1 Main St",
    "OtherPatientIDs": "X-9", "AccessionNumber": "ACC-77", "StudyID": "S77", "StudyDescription": "SCREEN DOE",
    "ReferringPhysicianName": "WHO^DR", "InstitutionName": "St Elsewhere", "InstitutionAddress": "2 Hospital Rd",
    "StationName": "DBT-ROOM-3", "DeviceSerialNumber": "SN-1234", "OperatorsName": "TECH^ANNA",
    "PerformingPhysicianName": "READ^DR", "ProtocolName": "R CC Tomo DOE", "AcquisitionDateTime": "20240102030405",
    "SeriesDate": "20240102", "StudyTime": "101010", "ImageComments": "call Jane 555-0100",
}


def _source(tmp_path, volume_left) -> Dataset:
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, patient_name="DOE^JANE", patient_id="P123",
                              patient_birth_date="19700101", accession_number="ACC-77", view="CC", laterality="L")
    ds = pydicom.dcmread(path)
    for keyword, value in _IDENTIFYING.items():
        setattr(ds, keyword, value)
    ds.add_new(0x00091010, "LO", "private vendor note: DOE")
    ds.ReferencedImageSequence = DicomSequence([Dataset()])
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path)
    return pydicom.dcmread(path)


def test_identifying_attributes_removed_or_replaced(tmp_path, volume_left):
    source = _source(tmp_path, volume_left)
    uid_map: dict[str, str] = {}
    out = deidentify(source, uid_map)
    for keyword in _IDENTIFYING:
        assert keyword not in out or out[keyword].value in ("", None), keyword
        assert ACTIONS[keyword] in "XZD"
    assert (str(out.PatientName), out.PatientID) == ("ANONYMOUS^", "ANONYMOUS")
    assert not any(element.tag.is_private for element in out)
    assert "DOE" not in str(out) and "P123" not in str(out) and "SN-1234" not in str(out)
    assert out.PatientIdentityRemoved == "YES" and "Annex E" in out.DeidentificationMethod
    code = out.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        assert out[keyword].value != source[keyword].value and uid_map[source[keyword].value] == out[keyword].value
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID  # meta and dataset agree
    # What the profile keeps stays: the image and its geometry.
    assert (out.SOPClassUID, out.Rows, out.NumberOfFrames, out.ImageLaterality) == (
        source.SOPClassUID, source.Rows, source.NumberOfFrames, "L")
    np.testing.assert_array_equal(out.pixel_array, source.pixel_array)
    assert source.PatientID == "P123"  # the input is not changed


def test_uids_consistent_within_one_export(tmp_path, volume_left):
    source = _source(tmp_path, volume_left)
    uid_map: dict[str, str] = {}
    first, second = deidentify(source, uid_map), deidentify(source, uid_map)
    assert first.StudyInstanceUID == second.StudyInstanceUID and first.SOPInstanceUID == second.SOPInstanceUID
    assert "ReferencedImageSequence" not in first  # X in the profile
    other = deidentify(source, {})
    assert other.StudyInstanceUID != first.StudyInstanceUID  # a new export gets new UIDs


def test_derived_dicom_deidentified_to_the_profile(tmp_path, volume_left):
    _source(tmp_path, volume_left)
    study = load_study(tmp_path / "v.dcm")
    uid_map: dict[str, str] = {}
    image = np.zeros((40, 30), np.uint16)
    ds = pydicom.dcmread(write_derived_dicom(tmp_path / "sm.dcm", image, study, deidentify=True, uid_map=uid_map))
    assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.StudyInstanceUID == uid_map[study.header.StudyInstanceUID]
    assert "DOE" not in str(ds) and "P123" not in str(ds) and "ACC-77" not in str(ds)
    assert ds.AccessionNumber == "" and "PatientBirthDate" in ds and ds.PatientBirthDate == ""
    assert ds.DerivationDescription == "SLAM synthetic mammogram"
