"""De-identification: DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile.

:data:`ACTIONS` is the profile's action per attribute (PS3.15 Table E.1-1, basic profile column):
``D`` replace with a dummy value, ``Z`` replace with an empty (or dummy) value, ``X`` remove,
``U`` replace the UID by another one, consistent within one export (the ``uid_map`` passed along).
Attributes the profile keeps (``K``) are not listed. Private tags are removed, and so are curves and
overlay comments (groups 50xx/60xx comments); the profile's "Retain" options are not applied.
"""

from __future__ import annotations

import copy

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid

# PS3.15 Table E.1-1, basic profile: keyword -> action (D, Z, X, U). Where the table allows a choice
# (X/Z, Z/D, X/D, X/Z/D, X/Z/U*), the first listed is taken, except U for UIDs.
ACTIONS: dict[str, str] = {
    # patient
    "PatientName": "Z", "PatientID": "Z", "PatientBirthDate": "Z", "PatientSex": "Z",
    "PatientBirthTime": "X", "PatientBirthName": "X", "PatientAge": "X", "PatientSize": "X",
    "PatientWeight": "X", "PatientAddress": "X", "PatientMotherBirthName": "X", "OtherPatientIDs": "X",
    "OtherPatientIDsSequence": "X", "OtherPatientNames": "X", "PatientTelephoneNumbers": "X",
    "PatientTelecomInformation": "X", "MilitaryRank": "X", "BranchOfService": "X", "EthnicGroup": "X",
    "Occupation": "X", "AdditionalPatientHistory": "X", "PatientComments": "X", "PatientReligiousPreference": "X",
    "MedicalRecordLocator": "X", "MedicalAlerts": "X", "Allergies": "X", "CountryOfResidence": "X",
    "RegionOfResidence": "X", "PatientState": "X", "PregnancyStatus": "X", "LastMenstrualDate": "X",
    "SmokingStatus": "X", "SpecialNeeds": "X", "PatientInsurancePlanCodeSequence": "X",
    "PatientPrimaryLanguageCodeSequence": "X", "ResponsiblePerson": "X", "ResponsibleOrganization": "X",
    "IssuerOfPatientID": "X", "PatientBirthDateInAlternativeCalendar": "X", "PatientSexNeutered": "X",
    "InsurancePlanIdentification": "X", "ReferencedPatientPhotoSequence": "X", "ReferencedPatientSequence": "X",
    # study
    "StudyInstanceUID": "U", "StudyDate": "Z", "StudyTime": "Z", "StudyID": "Z", "AccessionNumber": "Z",
    "StudyDescription": "X", "ReferringPhysicianName": "Z", "ReferringPhysicianAddress": "X",
    "ReferringPhysicianTelephoneNumbers": "X", "ReferringPhysicianIdentificationSequence": "X",
    "ConsultingPhysicianName": "X", "ConsultingPhysicianIdentificationSequence": "X",
    "PhysiciansOfRecord": "X", "PhysiciansOfRecordIdentificationSequence": "X",
    "NameOfPhysiciansReadingStudy": "X", "PhysiciansReadingStudyIdentificationSequence": "X",
    "AdmittingDiagnosesDescription": "X", "AdmittingDiagnosesCodeSequence": "X", "AdmissionID": "X",
    "ReasonForStudy": "X", "RequestingPhysician": "X", "RequestingService": "X", "StudyComments": "X",
    "InterpretationAuthor": "X", "RequestedProcedureDescription": "X", "RequestAttributesSequence": "X",
    "ReferencedStudySequence": "X", "ReasonForTheRequestedProcedure": "X", "RequestedProcedureID": "X",
    "ProcedureCodeSequence": "X", "IssuerOfAdmissionIDSequence": "X", "ServiceEpisodeID": "X",
    "ServiceEpisodeDescription": "X", "OrderEntererLocation": "X", "OrderCallbackPhoneNumber": "X",
    "PlacerOrderNumberImagingServiceRequest": "Z", "FillerOrderNumberImagingServiceRequest": "Z",
    # series, acquisition, content
    "SeriesInstanceUID": "U", "SeriesDate": "X", "SeriesTime": "X", "SeriesDescription": "X",
    "AcquisitionDate": "X", "AcquisitionTime": "X", "AcquisitionDateTime": "X", "ContentDate": "Z",
    "ContentTime": "Z", "InstanceCreationDate": "X", "InstanceCreationTime": "X", "OverlayDate": "X",
    "OverlayTime": "X", "CurveDate": "X", "CurveTime": "X", "PerformedProcedureStepStartDate": "X",
    "PerformedProcedureStepStartTime": "X", "PerformedProcedureStepEndDate": "X",
    "PerformedProcedureStepEndTime": "X", "PerformedProcedureStepID": "X",
    "PerformedProcedureStepDescription": "X", "ScheduledProcedureStepStartDate": "X",
    "ScheduledProcedureStepDescription": "X", "ProtocolName": "X", "AcquisitionComments": "X",
    "ImageComments": "X", "DerivationDescription": "X", "ContrastBolusAgent": "Z", "PerformedLocation": "X",
    "PerformingPhysicianName": "X", "PerformingPhysicianIdentificationSequence": "X",
    "OperatorsName": "X", "OperatorIdentificationSequence": "X", "RequestedContrastAgent": "X",
    "ReferencedPerformedProcedureStepSequence": "X", "RequestedProcedureCodeSequence": "X",
    "ActualHumanPerformersSequence": "X", "HumanPerformerName": "X", "HumanPerformerOrganization": "X",
    "PersonName": "D", "VerifyingObserverName": "D", "VerifyingOrganization": "X",
    "VerifyingObserverIdentificationCodeSequence": "Z", "AuthorObserverSequence": "X",
    "ContributingEquipmentSequence": "X", "TextComments": "X", "TextString": "X", "ContentSequence": "X",
    "GraphicAnnotationSequence": "D", "FrameComments": "X", "IconImageSequence": "X",
    "RequestAttributesSequenceDescription": "X", "DataSetTrailingPadding": "X", "DigitalSignaturesSequence": "X",
    # equipment, operators, institution
    "InstitutionName": "X", "InstitutionAddress": "X", "InstitutionalDepartmentName": "X",
    "InstitutionCodeSequence": "X", "InstitutionalDepartmentTypeCodeSequence": "X", "StationName": "X",
    "DeviceSerialNumber": "X", "DeviceUID": "U", "PlateID": "X", "DetectorID": "X", "GantryID": "X",
    "CassetteID": "X", "GeneratorID": "X", "SourceSerialNumber": "X", "DeviceDescription": "X",
    "ManufacturerDeviceClassUID": "U", "UniqueDeviceIdentifier": "X", "DetectorDescription": "X",
    # UIDs the profile replaces (SOP Class UIDs and transfer syntaxes are kept)
    "SOPInstanceUID": "U", "MediaStorageSOPInstanceUID": "U", "FrameOfReferenceUID": "U",
    "SynchronizationFrameOfReferenceUID": "U", "ReferencedSOPInstanceUID": "U",
    "ReferencedFrameOfReferenceUID": "U", "RelatedFrameOfReferenceUID": "U",
    "DimensionOrganizationUID": "U", "ConcatenationUID": "U", "IrradiationEventUID": "U",
    "CreatorVersionUID": "U", "TemplateExtensionCreatorUID": "U", "TemplateExtensionOrganizationUID": "U",
    "StorageMediaFileSetUID": "U", "UID": "U", "TransactionUID": "U", "FiducialUID": "U",
    "DoseReferenceUID": "U", "ReferencedGeneralPurposeScheduledProcedureStepTransactionUID": "U",
    "StudyIDIssuer": "X", "InstanceCreatorUID": "U", "SourceImageSequence": "X",
    "ReferencedImageSequence": "X", "UniformResourceLocatorTrial": "X", "RetrieveURL": "X",
}
# Z allows "a dummy value consistent with the VR": the patient keeps a visible placeholder.
_Z_DUMMY = {"PatientName": "ANONYMOUS^", "PatientID": "ANONYMOUS"}
PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
_DUMMY = {"PN": "ANONYMOUS", "LO": "ANONYMOUS", "SH": "ANON", "DA": "19000101", "TM": "000000",
          "DT": "19000101000000", "CS": "ANON", "UI": "", "IS": "0", "DS": "0"}


def deidentify(ds: Dataset, uid_map: dict[str, str] | None = None) -> Dataset:
    """A de-identified copy of ``ds`` (the input is not changed), nested sequences included.

    ``uid_map`` maps original UIDs to their replacements; pass the same dict to every dataset of one
    export so references between them (study, series, referenced instances) stay consistent. New
    UIDs are added to it. Sets PatientIdentityRemoved = YES, DeidentificationMethod and
    DeidentificationMethodCodeSequence (113100, DCM).
    """
    uid_map = {} if uid_map is None else uid_map
    out = copy.deepcopy(ds)  # Dataset.copy() shares the elements with the input
    _apply(out, uid_map)
    meta = getattr(out, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = _new_uid(str(meta.MediaStorageSOPInstanceUID), uid_map)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "DICOM PS3.15 Annex E Basic Application Confidentiality"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = PROFILE_CODE
    out.DeidentificationMethodCodeSequence = DicomSequence([code])
    return out


def _new_uid(uid: str, uid_map: dict[str, str]) -> str:
    if uid not in uid_map:
        uid_map[uid] = generate_uid()
    return uid_map[uid]


def _apply(ds: Dataset, uid_map: dict[str, str]) -> None:
    for element in list(ds):
        keyword = element.keyword
        group = element.tag.group
        if element.tag.is_private or (0x5000 <= group <= 0x50FF) or (0x6000 <= group <= 0x60FF and element.tag.element == 0x4000):
            del ds[element.tag]  # private tags, curves, overlay comments
            continue
        action = ACTIONS.get(keyword)
        if action == "X":
            del ds[element.tag]
        elif action == "Z":
            element.value = DicomSequence([]) if element.VR == "SQ" else _Z_DUMMY.get(keyword, "")
        elif action == "D":
            if element.VR == "SQ":
                del ds[element.tag]
            else:
                element.value = _DUMMY.get(element.VR, "")
        elif action == "U" and element.value:
            values = element.value if element.VM > 1 else [element.value]
            replaced = [_new_uid(str(v), uid_map) for v in values]
            element.value = replaced if element.VM > 1 else replaced[0]
        elif element.VR == "SQ":
            for item in element.value:
                _apply(item, uid_map)
