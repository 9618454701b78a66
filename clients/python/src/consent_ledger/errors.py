"""What the ledger refused, as it said it.

The ledger answers an error as
``{"error": {"code": "invalid_argument", "field": "events[0].consent_given.purposes", "message": "..."}}``;
a :class:`LedgerError` carries each part, so a caller can show the field at
fault next to the row that had it.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """An answer other than success from the ledger.

    ``code`` is the ledger's stable machine-readable code
    (``invalid_argument``, ``not_found``, ``unauthenticated``,
    ``permission_denied``, ``wrong_partition``, ``unavailable``,
    ``deadline_exceeded``, ``unimplemented``, ``internal``); ``field`` the
    request field at fault when the ledger names one (a proto field path
    such as ``events[2].consent_given.channels[0]``); ``partition`` the log
    partition for ``wrong_partition``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        partition: int | None = None,
    ) -> None:
        where = f" (field {field})" if field else ""
        super().__init__(f"{status} {code}{where}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.partition = partition

    @classmethod
    def from_answer(cls, status: int, body: bytes) -> "LedgerError":
        """The error an HTTP answer describes, by its JSON body when it has one."""
        import json

        detail: dict[str, Any] = {}
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
                detail = parsed["error"]
        except ValueError:
            pass
        code = str(detail.get("code") or f"http_{status}")
        message = str(detail.get("message") or body.decode("utf-8", "replace").strip())
        field = detail.get("field")
        partition = detail.get("partition")
        kind = InvalidArgument if code == "invalid_argument" else cls
        return kind(
            status,
            code,
            message,
            field=str(field) if field is not None else None,
            partition=int(partition) if isinstance(partition, int) else None,
        )


class InvalidArgument(LedgerError):
    """The request is not one the ledger accepts (400); ``field`` names why."""


class LedgerUnreachable(LedgerError):
    """No answer from the ledger at all (connection refused, time-out)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "unreachable", message)


class VerificationError(Exception):
    """The offline verifier could not run (not: the bundle failed to verify)."""
