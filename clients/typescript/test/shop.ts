/**
 * The ledger under test, and a shop's facts in it: Acme Cycles (an
 * organisation of its own per run) and four customers: one who consented to
 * email, one who bought a bike (the soft opt-in), one whose address the
 * shop's ESP reported unsubscribed (an imported suppression, no subject),
 * and one the shop knows nothing lawful about.
 *
 * The ledger's base URL is in CONSENT_LEDGER_URL (crates/consent-cli/tests/
 * clients.rs starts the real binary and sets it, with CONSENT_LEDGER_BIN for
 * the verifier). Without it the suite fails: a client test that cannot reach
 * a ledger has checked nothing.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import {
  Channel,
  CollectionMethod,
  CollectionRoute,
  ConsentCollector,
  ContactKind,
  type CheckRequestSchema,
  type EnvelopeSchema,
  type Init,
  Ledger,
  type LogPosition,
  MessageClass,
  OptOutMethod,
  OrganisationKind,
  Purpose,
  timestampFromDate,
  timestampNow,
} from "../src/index.js";

const WORDING = "Yes, email me Acme Cycles' offers. Unsubscribe at any time.";

export const baseUrl = process.env.CONSENT_LEDGER_URL ?? "";
const suffix = randomUUID().slice(0, 8);
export const organisationId = `acme-cycles-ts-${suffix}`;
export const customers: Record<string, string> = {
  "cust-consented": `ada-${suffix}@example.com`,
  "cust-bought": `bob-${suffix}@example.com`,
  "cust-suppressed": `carol-${suffix}@example.com`,
  "cust-unknown": `dan-${suffix}@example.com`,
};
export let ledger: Ledger;
/** Where the shop's facts were recorded: what a check waits for. */
let recorded: LogPosition[] = [];

const at = (text: string) => timestampFromDate(new Date(text));
export const email = (address: string) => ({ kind: ContactKind.EMAIL, value: address });

/** The spring newsletter (marketing email, commercial, bikes) to a customer at their address, once the shop's facts are in the view. */
export function campaignCheck(subjectId: string, extra: Partial<Init<typeof CheckRequestSchema>> = {}): Init<typeof CheckRequestSchema> {
  return {
    organisationId,
    subjectId,
    channel: Channel.EMAIL,
    purpose: Purpose.COMMERCIAL,
    productCategoryId: "bikes",
    messageClass: MessageClass.MARKETING,
    promotionalContent: true,
    optOutIncluded: true,
    senderIdentified: true,
    contactPoint: email(customers[subjectId]),
    waitFor: recorded,
    ...extra,
  } as Init<typeof CheckRequestSchema>;
}

/** The fact that the newsletter went to `subjectId` at their address. */
export function sendRecorded(subjectId: string, messageId: string): Init<typeof EnvelopeSchema> {
  return {
    organisationId,
    subjectId,
    occurredAt: timestampNow(),
    payload: {
      case: "marketingMessageSent",
      value: {
        channel: Channel.EMAIL,
        purpose: Purpose.COMMERCIAL,
        productCategoryId: "bikes",
        messageClass: MessageClass.MARKETING,
        promotionalContent: true,
        optOutIncluded: true,
        senderIdentified: true,
        messageId,
        campaignId: "spring",
        contactPoint: email(customers[subjectId]),
      },
    },
  };
}

/** Records the shop's facts (once per test file: each runs in its own process). */
export async function openShop(): Promise<void> {
  assert.ok(
    baseUrl,
    "CONSENT_LEDGER_URL is not set: start a ledger (consent-ledger serve) and give its base URL, e.g. CONSENT_LEDGER_URL=http://127.0.0.1:8080",
  );
  ledger = new Ledger(baseUrl, { apiKey: process.env.CONSENT_LEDGER_API_KEY });
  const signedUp = at("2026-02-01T10:00:00Z");
  const events: Init<typeof EnvelopeSchema>[] = [
    {
      organisationId,
      occurredAt: at("2026-01-10T09:00:00Z"),
      payload: { case: "organisationRegistered", value: { name: "Acme Cycles Ltd", kind: OrganisationKind.COMMERCIAL } },
    },
    {
      organisationId,
      occurredAt: at("2026-01-10T09:00:00Z"),
      payload: { case: "productCategoriesDefined", value: { categories: [{ id: "bikes", name: "Bikes" }] } },
    },
    {
      organisationId,
      subjectId: "cust-consented",
      occurredAt: signedUp,
      payload: {
        case: "consentGiven",
        value: {
          channels: [Channel.EMAIL],
          purposes: [Purpose.COMMERCIAL],
          wordingVersion: "newsletter-v2",
          wordingSha256: createHash("sha256").update(WORDING).digest("hex"),
          method: CollectionMethod.DOUBLE_OPT_IN,
          collector: ConsentCollector.FIRST_PARTY,
          contactPoint: email(customers["cust-consented"]),
        },
      },
    },
    ...["cust-bought", "cust-suppressed"].map(
      (subjectId): Init<typeof EnvelopeSchema> => ({
        organisationId,
        subjectId,
        occurredAt: signedUp,
        payload: {
          case: "saleRecorded",
          value: {
            productCategoryId: "bikes",
            orderRef: `order-${subjectId}`,
            collection: {
              route: CollectionRoute.DIRECT,
              optOutOffered: true,
              formVersion: "checkout-v4",
              contactPoint: email(customers[subjectId]),
            },
          },
        },
      }),
    ),
    // The ESP's suppression list: the address alone, no subject.
    {
      organisationId,
      occurredAt: at("2026-03-01T08:00:00Z"),
      payload: {
        case: "optOutRecorded",
        value: {
          channels: [Channel.EMAIL],
          receivedVia: OptOutMethod.UNSUBSCRIBE_LINK,
          contactPoint: email(customers["cust-suppressed"]),
        },
      },
    },
  ];
  const answer = await ledger.append(events);
  recorded = answer.appended.map((appended) => appended.position).filter((p) => p !== undefined);
}
