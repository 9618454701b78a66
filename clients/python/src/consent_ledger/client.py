"""The ledger's HTTP JSON API, with the generated ``consent.v1`` messages.

Every body is the proto3 JSON mapping of a ``consent.v1`` message (the API's
contract, docs/openapi.json), written and read by protobuf's own
``json_format``: enum names, camelCase, RFC 3339 timestamps and 64-bit
integers as strings come out exactly as the ledger reads them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, TypeVar
from urllib.parse import quote

import httpx
from google.protobuf import json_format
from google.protobuf.message import Message

from consent.v1 import events_pb2, ledger_pb2

from .errors import LedgerError, LedgerUnreachable

M = TypeVar("M", bound=Message)

# The check fields the history endpoint reads from its query string (the
# organisation and the subject come from its path).
_HISTORY_CHECK_FIELDS = (
    "channel",
    "purpose",
    "productCategoryId",
    "messageClass",
    "promotionalContent",
    "soleCharitablePurpose",
    "optOutIncluded",
    "senderIdentified",
    "callCategory",
    "ruleSetId",
)


def to_json(message: Message) -> dict[str, Any]:
    """``message`` in the proto3 JSON mapping (fields at their zero value left out)."""
    return json_format.MessageToDict(message)


def from_json(data: Any, message: M) -> M:
    """Fills ``message`` from its proto3 JSON; fields this client does not
    know yet (a newer ledger's) are skipped, not refused."""
    return json_format.ParseDict(data, message, ignore_unknown_fields=True)


class Ledger:
    """A consent ledger, reached over its HTTP JSON API.

    >>> ledger = Ledger("http://localhost:8080", api_key="ck_live_...")
    >>> decision = ledger.check(CheckRequest(organisation_id="acme", ...))

    ``api_key`` is sent as ``Authorization: Bearer`` (none: a ledger that
    runs without API keys). Every call raises :class:`LedgerError` for an
    answer other than success, with the ledger's ``code`` and ``field``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"accept": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self._base = base_url.rstrip("/")
        self._headers = headers

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # ------------------------------------------------------------ the calls

    def append(self, events: Iterable[events_pb2.Envelope]) -> ledger_pb2.AppendResponse:
        """Appends facts, all or none (``POST /v1/events``). Each answer
        names where its event was recorded, and for a recorded send the
        message's one-click ``unsubscribe_url``."""
        request = ledger_pb2.AppendRequest(events=list(events))
        return from_json(self._post("/v1/events", to_json(request)), ledger_pb2.AppendResponse())

    def check(self, request: ledger_pb2.CheckRequest) -> ledger_pb2.Decision:
        """May the organisation send this message to this subject (or
        address) now, or at ``request.at`` (``POST /v1/checks``)?"""
        return from_json(self._post("/v1/checks", to_json(request)), ledger_pb2.Decision())

    def check_batch(
        self, requests: Iterable[ledger_pb2.CheckRequest]
    ) -> list[ledger_pb2.Decision]:
        """Several checks in one call (``POST /v1/checks:batch``); the i-th
        decision answers the i-th check. One invalid check fails the call,
        naming ``checks[i]``."""
        request = ledger_pb2.CheckBatchRequest(checks=list(requests))
        answer = from_json(
            self._post("/v1/checks:batch", to_json(request)), ledger_pb2.CheckBatchResponse()
        )
        return list(answer.decisions)

    def history(
        self,
        organisation_id: str,
        subject_id: str,
        *,
        at: datetime | None = None,
        decision_for: ledger_pb2.CheckRequest | None = None,
    ) -> ledger_pb2.HistoryResponse:
        """A subject's facts (as of ``at``), with the decision for
        ``decision_for`` at that time when given (its organisation and
        subject are the history's; its ``wait_for`` is not sent)."""
        params: list[tuple[str, str]] = []
        if at is not None:
            if at.tzinfo is None:
                raise ValueError("history: `at` must be timezone-aware (e.g. datetime.now(UTC))")
            params.append(("at", at.isoformat()))
        if decision_for is not None:
            check = to_json(decision_for)
            for name in _HISTORY_CHECK_FIELDS:
                if name in check:
                    value = check[name]
                    params.append((name, json.dumps(value) if isinstance(value, bool) else str(value)))
            point = check.get("contactPoint", {})
            for part in ("kind", "value"):
                if part in point:
                    params.append((f"contactPoint.{part}", str(point[part])))
        path = (
            f"/v1/organisations/{quote(organisation_id, safe='')}"
            f"/subjects/{quote(subject_id, safe='')}/history"
        )
        return from_json(self._get(path, params), ledger_pb2.HistoryResponse())

    def export(self, request: ledger_pb2.ExportRequest) -> bytes:
        """An evidence bundle (``POST /v1/exports``): the file's bytes, to
        keep and to check offline with :func:`consent_ledger.verify_bundle`."""
        return self._send("POST", "/v1/exports", body=to_json(request)).content

    def checkpoint_key(self) -> str:
        """The key the ledger signs checkpoints with (``GET
        /v1/checkpoint-key``): what a verifier trusts. Publish it, and
        verify bundles against the published copy."""
        return self._send("GET", "/v1/checkpoint-key").text.strip()

    # ------------------------------------------------------------ transport

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, body=body).json()

    def _get(self, path: str, params: list[tuple[str, str]]) -> Any:
        return self._send("GET", path, params=params).json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: list[tuple[str, str]] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method,
                self._base + path,
                json=body,
                params=tuple(params) if params else None,
                headers=self._headers,
            )
        except httpx.HTTPError as error:
            raise LedgerUnreachable(f"{method} {self._base}{path}: {error}") from error
        if response.is_success:
            return response
        raise LedgerError.from_answer(response.status_code, response.content)
