/**
 * The ledger's HTTP JSON API, with the generated `consent.v1` messages.
 *
 * Every body is the proto3 JSON mapping of a `consent.v1` message (the
 * API's contract, docs/openapi.json), written and read by
 * `@bufbuild/protobuf`'s `toJson` and `fromJson`: enum names, camelCase,
 * RFC 3339 timestamps and 64-bit integers as strings come out exactly as the
 * ledger reads them.
 */
import {
  create,
  fromJson,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Envelope, EnvelopeSchema } from "./gen/consent/v1/events_pb.js";
import {
  type AppendResponse,
  AppendResponseSchema,
  CheckBatchRequestSchema,
  CheckBatchResponseSchema,
  type CheckRequest,
  CheckRequestSchema,
  type Decision,
  DecisionSchema,
  ExportRequestSchema,
  type HistoryResponse,
  HistoryResponseSchema,
  AppendRequestSchema,
} from "./gen/consent/v1/ledger_pb.js";
import { LedgerError } from "./errors.js";

/** A message, or the plain object `create` makes it from. */
export type Init<Desc extends DescMessage> = MessageShape<Desc> | MessageInitShape<Desc>;

/** The check fields the history endpoint reads from its query string. */
const HISTORY_CHECK_FIELDS = [
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
] as const;

export interface LedgerOptions {
  /** Sent as `Authorization: Bearer` (none: a ledger that runs without API keys). */
  apiKey?: string;
  /** Milliseconds before a call is abandoned; 30 000 by default. */
  timeoutMs?: number;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
}

export interface HistoryOptions {
  /** Only facts that had occurred by then; also the decision's time. */
  at?: Date | Timestamp;
  /** The check to decide at that time (its organisation and subject are the history's). */
  decisionFor?: Init<typeof CheckRequestSchema>;
}

/** A consent ledger, reached over its HTTP JSON API. Every call rejects with a {@link LedgerError} for an answer other than success. */
export class Ledger {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(baseUrl: string, options: LedgerOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.headers = { accept: "application/json" };
    if (options.apiKey) {
      this.headers.authorization = `Bearer ${options.apiKey}`;
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Appends facts, all or none (`POST /v1/events`). Each answer names where
   * its event was recorded and, for a recorded send, the message's one-click
   * `unsubscribeUrl`.
   */
  async append(events: Init<typeof EnvelopeSchema>[]): Promise<AppendResponse> {
    const request = create(AppendRequestSchema, {
      events: events.map((event) => create(EnvelopeSchema, event as MessageInitShape<typeof EnvelopeSchema>) as Envelope),
    });
    const answer = await this.post("/v1/events", toJson(AppendRequestSchema, request));
    return fromJson(AppendResponseSchema, answer, { ignoreUnknownFields: true });
  }

  /** May the organisation send this message to this subject (or address) now, or at `at` (`POST /v1/checks`)? */
  async check(request: Init<typeof CheckRequestSchema>): Promise<Decision> {
    const answer = await this.post("/v1/checks", toJson(CheckRequestSchema, checkRequest(request)));
    return fromJson(DecisionSchema, answer, { ignoreUnknownFields: true });
  }

  /** Several checks in one call (`POST /v1/checks:batch`); the i-th decision answers the i-th check. One invalid check fails the call, naming `checks[i]`. */
  async checkBatch(requests: Init<typeof CheckRequestSchema>[]): Promise<Decision[]> {
    const request = create(CheckBatchRequestSchema, { checks: requests.map(checkRequest) });
    const answer = await this.post("/v1/checks:batch", toJson(CheckBatchRequestSchema, request));
    return fromJson(CheckBatchResponseSchema, answer, { ignoreUnknownFields: true }).decisions;
  }

  /** A subject's facts (as of `at`), with the decision for `decisionFor` at that time when given (its `waitFor` is not sent). */
  async history(organisationId: string, subjectId: string, options: HistoryOptions = {}): Promise<HistoryResponse> {
    const query = new URLSearchParams();
    if (options.at !== undefined) {
      const at = options.at instanceof Date ? options.at : timestampDate(options.at);
      query.append("at", at.toISOString());
    }
    if (options.decisionFor !== undefined) {
      const check = toJson(CheckRequestSchema, checkRequest(options.decisionFor)) as Record<string, JsonValue>;
      for (const name of HISTORY_CHECK_FIELDS) {
        if (check[name] !== undefined) {
          query.append(name, String(check[name]));
        }
      }
      const point = (check.contactPoint ?? {}) as Record<string, JsonValue>;
      for (const part of ["kind", "value"]) {
        if (point[part] !== undefined) {
          query.append(`contactPoint.${part}`, String(point[part]));
        }
      }
    }
    const path =
      `/v1/organisations/${encodeURIComponent(organisationId)}` +
      `/subjects/${encodeURIComponent(subjectId)}/history` +
      (query.size > 0 ? `?${query}` : "");
    const answer = await this.send("GET", path);
    return fromJson(HistoryResponseSchema, (await answer.json()) as JsonValue, { ignoreUnknownFields: true });
  }

  /** An evidence bundle (`POST /v1/exports`): the file's bytes, to keep and to check offline with `verifyBundle`. */
  async export(request: Init<typeof ExportRequestSchema>): Promise<Uint8Array> {
    const message = create(ExportRequestSchema, request as MessageInitShape<typeof ExportRequestSchema>);
    const answer = await this.send("POST", "/v1/exports", toJson(ExportRequestSchema, message));
    return new Uint8Array(await answer.arrayBuffer());
  }

  /** The key the ledger signs checkpoints with (`GET /v1/checkpoint-key`): what a verifier trusts. */
  async checkpointKey(): Promise<string> {
    const answer = await this.send("GET", "/v1/checkpoint-key");
    return (await answer.text()).trim();
  }

  private async post(path: string, body: JsonValue): Promise<JsonValue> {
    const answer = await this.send("POST", path, body);
    return (await answer.json()) as JsonValue;
  }

  private async send(method: string, path: string, body?: JsonValue): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    let answer: Response;
    try {
      answer = await this.fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new LedgerError(0, "unreachable", `${method} ${this.base}${path}: ${String(error)}`);
    }
    if (!answer.ok) {
      throw LedgerError.fromAnswer(answer.status, await answer.text());
    }
    return answer;
  }
}

function checkRequest(request: Init<typeof CheckRequestSchema>): CheckRequest {
  return create(CheckRequestSchema, request as MessageInitShape<typeof CheckRequestSchema>);
}
