/**
 * What the ledger refused, as it said it. The ledger answers an error as
 * `{"error": {"code": "invalid_argument", "field": "events[0].consent_given.purposes", "message": "..."}}`;
 * a {@link LedgerError} carries each part, so a caller can show the field at
 * fault next to the row that had it.
 */
export class LedgerError extends Error {
  /** The HTTP status (0: no answer at all). */
  readonly status: number;
  /**
   * The ledger's stable machine-readable code: `invalid_argument`,
   * `not_found`, `unauthenticated`, `permission_denied`, `wrong_partition`,
   * `unavailable`, `deadline_exceeded`, `unimplemented`, `internal`, or
   * `unreachable` when the ledger did not answer.
   */
  readonly code: string;
  /** The request field at fault, a proto field path such as `events[2].consent_given.channels[0]`. */
  readonly field?: string;
  /** The log partition, for `wrong_partition`. */
  readonly partition?: number;

  constructor(status: number, code: string, message: string, field?: string, partition?: number) {
    super(`${status} ${code}${field ? ` (field ${field})` : ""}: ${message}`);
    this.name = "LedgerError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.partition = partition;
  }

  /** The error an HTTP answer describes, by its JSON body when it has one. */
  static fromAnswer(status: number, body: string): LedgerError {
    let detail: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === "object" && parsed !== null && "error" in parsed) {
        const error = (parsed as { error: unknown }).error;
        if (typeof error === "object" && error !== null) {
          detail = error as Record<string, unknown>;
        }
      }
    } catch {
      // Not JSON: the text is the message.
    }
    const code = typeof detail.code === "string" ? detail.code : `http_${status}`;
    const message = typeof detail.message === "string" ? detail.message : body.trim();
    const field = typeof detail.field === "string" ? detail.field : undefined;
    const partition = typeof detail.partition === "number" ? detail.partition : undefined;
    return new LedgerError(status, code, message, field, partition);
  }
}

/** The offline verifier could not run (not: the bundle failed to verify). */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerificationError";
  }
}
