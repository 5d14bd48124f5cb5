"""The part of OSCAL 1.1.2 assessment-results that driftscan writes, as pydantic models.

Fields serialise under OSCAL's JSON names (hyphenated aliases); extra fields are refused, and the
datatypes OSCAL constrains by pattern (token, string, UUID) are checked here, so a document
that these models build is well-formed before any outside validator sees it. Serialise with
`Document.model_dump(by_alias=True, exclude_none=True, mode="json")`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

OSCAL_VERSION = "1.1.2"

# OSCAL's datatypes (metaschema): a token is letter- or underscore-led, then letters, digits,
# `.`, `-`, `_`; a string has no leading or trailing whitespace; a line has no newline.
Token = Annotated[str, StringConstraints(pattern=r"^[_A-Za-z][_A-Za-z0-9.\-]*$")]
String = Annotated[str, StringConstraints(pattern=r"^\S(.*\S)?$")]
Line = Annotated[str, StringConstraints(pattern=r"^[^\n]+$")]
UUID = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$"
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Property(_Model):
    name: Token
    value: String
    ns: str | None = None
    remarks: str | None = None


class Metadata(_Model):
    title: Line
    last_modified: AwareDatetime = Field(serialization_alias="last-modified")
    version: String
    oscal_version: Literal["1.1.2"] = Field(default="1.1.2", serialization_alias="oscal-version")
    props: list[Property] | None = Field(default=None, min_length=1)
    remarks: str | None = None


class ImportAp(_Model):
    href: str
    remarks: str | None = None


class SelectControlById(_Model):
    control_id: Token = Field(serialization_alias="control-id")


class ControlSelection(_Model):
    """include-controls by id, or include-all (an empty object) when no catalogue is loaded."""

    description: str | None = None
    props: list[Property] | None = Field(default=None, min_length=1)
    include_all: dict[str, str] | None = Field(default=None, serialization_alias="include-all")
    include_controls: list[SelectControlById] | None = Field(
        default=None, serialization_alias="include-controls", min_length=1
    )
    remarks: str | None = None


class ReviewedControls(_Model):
    description: str | None = None
    props: list[Property] | None = Field(default=None, min_length=1)
    control_selections: list[ControlSelection] = Field(
        serialization_alias="control-selections", min_length=1
    )


class InventoryItem(_Model):
    uuid: UUID
    description: str
    props: list[Property] | None = Field(default=None, min_length=1)


class LocalDefinitions(_Model):
    inventory_items: list[InventoryItem] | None = Field(
        default=None, serialization_alias="inventory-items", min_length=1
    )


class SubjectReference(_Model):
    subject_uuid: UUID = Field(serialization_alias="subject-uuid")
    type: Literal["component", "inventory-item", "location", "party", "user", "resource"]
    title: Line | None = None
    props: list[Property] | None = Field(default=None, min_length=1)


class RelevantEvidence(_Model):
    href: str | None = None
    description: str
    props: list[Property] | None = Field(default=None, min_length=1)


class Observation(_Model):
    uuid: UUID
    title: Line | None = None
    description: str
    props: list[Property] | None = Field(default=None, min_length=1)
    methods: list[Literal["EXAMINE", "INTERVIEW", "TEST", "UNKNOWN"]] = Field(min_length=1)
    types: list[Token] | None = Field(default=None, min_length=1)
    subjects: list[SubjectReference] | None = Field(default=None, min_length=1)
    relevant_evidence: list[RelevantEvidence] | None = Field(
        default=None, serialization_alias="relevant-evidence", min_length=1
    )
    collected: AwareDatetime
    remarks: str | None = None


class ObjectiveStatus(_Model):
    state: Literal["satisfied", "not-satisfied"]
    reason: Token | None = None
    remarks: str | None = None


class FindingTarget(_Model):
    type: Literal["statement-id", "objective-id"]
    target_id: Token = Field(serialization_alias="target-id")
    title: Line | None = None
    description: str | None = None
    props: list[Property] | None = Field(default=None, min_length=1)
    status: ObjectiveStatus


class RelatedObservation(_Model):
    observation_uuid: UUID = Field(serialization_alias="observation-uuid")


class Finding(_Model):
    uuid: UUID
    title: Line
    description: str
    props: list[Property] | None = Field(default=None, min_length=1)
    target: FindingTarget
    related_observations: list[RelatedObservation] | None = Field(
        default=None, serialization_alias="related-observations", min_length=1
    )
    remarks: str | None = None


class Result(_Model):
    uuid: UUID
    title: Line
    description: str
    start: AwareDatetime
    end: AwareDatetime | None = None
    props: list[Property] | None = Field(default=None, min_length=1)
    local_definitions: LocalDefinitions | None = Field(
        default=None, serialization_alias="local-definitions"
    )
    reviewed_controls: ReviewedControls = Field(serialization_alias="reviewed-controls")
    observations: list[Observation] | None = Field(default=None, min_length=1)
    findings: list[Finding] | None = Field(default=None, min_length=1)
    remarks: str | None = None


class AssessmentResults(_Model):
    uuid: UUID
    metadata: Metadata
    import_ap: ImportAp = Field(serialization_alias="import-ap")
    results: list[Result] = Field(min_length=1)


class Document(_Model):
    """The JSON document: `{"assessment-results": {...}}`."""

    assessment_results: AssessmentResults = Field(serialization_alias="assessment-results")


__all__ = [
    "OSCAL_VERSION",
    "AssessmentResults",
    "ControlSelection",
    "Document",
    "Finding",
    "FindingTarget",
    "ImportAp",
    "InventoryItem",
    "LocalDefinitions",
    "Metadata",
    "ObjectiveStatus",
    "Observation",
    "Property",
    "RelatedObservation",
    "RelevantEvidence",
    "Result",
    "ReviewedControls",
    "SelectControlById",
    "SubjectReference",
]
