"""A Python client of the consent ledger (consent-ledger, UK PECR / UK GDPR).

The messages are the ledger's own ``consent.v1`` protobuf types, generated
from proto/ (``consent.v1.events_pb2``, ``consent.v1.ledger_pb2``); the
vocabulary's enums are re-exported here, typed (``Channel.ValueType``...)
by their mypy-protobuf stubs::

    from consent_ledger import Ledger, CheckRequest, ContactPoint, Channel, Purpose

See clients/python/README.md for the send pipeline.
"""

from consent.v1.events_pb2 import (
    Channel,
    CollectionMethod,
    CollectionRoute,
    ConsentCollector,
    ConsentGiven,
    ConsentWithdrawn,
    ContactKind,
    ContactPoint,
    ContactPointRecorded,
    DetailsCollection,
    Envelope,
    MarketingMessageSent,
    MessageClass,
    ObjectionRecorded,
    OptOutMethod,
    OptOutRecorded,
    OrganisationKind,
    OrganisationRegistered,
    ProductCategoriesDefined,
    ProductCategory,
    Purpose,
    SaleRecorded,
    Source,
    SubscriberType,
)
from consent.v1.ledger_pb2 import (
    AppendResponse,
    CallCategory,
    CampaignExport,
    CheckRequest,
    Decision,
    ExportRequest,
    HistoryResponse,
    LawfulBasis,
    LogPosition,
    Reason,
    RuleOutcome,
    SubjectExport,
    TimeRangeExport,
)

from .client import Ledger, from_json, to_json
from .errors import InvalidArgument, LedgerError, LedgerUnreachable, VerificationError
from .verify import Verification, verify_bundle

__all__ = [
    "AppendResponse",
    "CallCategory",
    "CampaignExport",
    "Channel",
    "CheckRequest",
    "CollectionMethod",
    "CollectionRoute",
    "ConsentCollector",
    "ConsentGiven",
    "ConsentWithdrawn",
    "ContactKind",
    "ContactPoint",
    "ContactPointRecorded",
    "Decision",
    "DetailsCollection",
    "Envelope",
    "ExportRequest",
    "HistoryResponse",
    "InvalidArgument",
    "LawfulBasis",
    "Ledger",
    "LedgerError",
    "LedgerUnreachable",
    "LogPosition",
    "MarketingMessageSent",
    "MessageClass",
    "ObjectionRecorded",
    "OptOutMethod",
    "OptOutRecorded",
    "OrganisationKind",
    "OrganisationRegistered",
    "ProductCategoriesDefined",
    "ProductCategory",
    "Purpose",
    "Reason",
    "RuleOutcome",
    "SaleRecorded",
    "Source",
    "SubjectExport",
    "SubscriberType",
    "TimeRangeExport",
    "Verification",
    "VerificationError",
    "from_json",
    "to_json",
    "verify_bundle",
]
