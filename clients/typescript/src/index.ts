/**
 * A TypeScript client of the consent ledger (consent-ledger, UK PECR / UK
 * GDPR). The messages and enums are the ledger's own `consent.v1` types,
 * generated from proto/ by protoc-gen-es (`Channel.EMAIL`,
 * `LawfulBasis.SOFT_OPT_IN`...). See clients/typescript/README.md for the
 * send pipeline.
 */
export { Ledger, type Init, type LedgerOptions, type HistoryOptions } from "./client.js";
export { LedgerError, VerificationError } from "./errors.js";
export { verifyBundle, type Verification, type VerifyOptions } from "./verify.js";
export * from "./gen/consent/v1/events_pb.js";
export * from "./gen/consent/v1/ledger_pb.js";
export { create, toJson, fromJson } from "@bufbuild/protobuf";
export { timestampFromDate, timestampNow, timestampDate } from "@bufbuild/protobuf/wkt";
