/**
 * The send pipeline as a marketing-ops program runs it, against a real
 * ledger whose base URL is in CONSENT_LEDGER_URL (crates/consent-cli/tests/
 * clients.rs starts the real binary and sets it, with CONSENT_LEDGER_BIN
 * for the verifier): pre-flight, check each recipient by address, record the
 * send with its unsubscribe URL, and what the ledger says when it refuses.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import {
  Channel,
  CollectionMethod,
  CollectionRoute,
  ConsentCollector,
  ContactKind,
  type Envelope,
  type Init,
  LawfulBasis,
  Ledger,
  LedgerError,
  type LogPosition,
  MessageClass,
  OptOutMethod,
  OrganisationKind,
  Purpose,
  type CheckRequestSchema,
  type EnvelopeSchema,
  timestampFromDate,
  timestampNow,
  verifyBundle,
} from "../src/index.js";

const baseUrl = process.env.CONSENT_LEDGER_URL;
const RECIPIENTS = ["cust-consented", "cust-bought", "cust-suppressed", "cust-unknown"];
const WORDING = "Yes, email me Acme Cycles' offers. Unsubscribe at any time.";

const suffix = randomUUID().slice(0, 8);
const organisationId = `acme-cycles-ts-${suffix}`;
const customers: Record<string, string> = {
  "cust-consented": `ada-${suffix}@example.com`,
  "cust-bought": `bob-${suffix}@example.com`,
  "cust-suppressed": `carol-${suffix}@example.com`,
  "cust-unknown": `dan-${suffix}@example.com`,
};
let ledger: Ledger;
/** Where the shop's facts were recorded: what a check waits for. */
let recorded: LogPosition[] = [];

const at = (text: string) => timestampFromDate(new Date(text));
const email = (address: string) => ({ kind: ContactKind.EMAIL, value: address });

/** The spring newsletter (marketing email, commercial, bikes) to a customer at their address. */
function campaignCheck(subjectId: string, extra: Partial<Init<typeof CheckRequestSchema>> = {}): Init<typeof CheckRequestSchema> {
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
function sendRecorded(subjectId: string, messageId: string): Init<typeof EnvelopeSchema> {
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

before(async () => {
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
});

test("the send pipeline sends only to whom the ledger allows, each with its unsubscribe URL", async () => {
  // Before the campaign: the pre-flight over the whole list, one call, verdicts only.
  const preflight = await ledger.checkBatch(RECIPIENTS.map((subject) => campaignCheck(subject, { omitTexts: true })));
  assert.deepEqual(
    preflight.map((decision) => decision.allowed),
    [true, true, false, false],
  );

  // At send time: each recipient checked again by address, the send
  // recorded, the unsubscribe URL put in the message.
  const sent: Record<string, string> = {};
  const bases: Record<string, LawfulBasis> = {};
  for (const subject of RECIPIENTS) {
    const decision = await ledger.check(campaignCheck(subject));
    if (!decision.allowed) continue;
    bases[subject] = decision.lawfulBasis;
    const answer = await ledger.append([sendRecorded(subject, `spring-${subject}`)]);
    sent[subject] = answer.appended[0].unsubscribeUrl;
  }
  assert.deepEqual(Object.keys(sent).sort(), ["cust-bought", "cust-consented"]);
  assert.deepEqual(bases, { "cust-consented": LawfulBasis.CONSENT, "cust-bought": LawfulBasis.SOFT_OPT_IN });
  for (const url of Object.values(sent)) {
    assert.ok(url.startsWith(`${baseUrl}/u/`), url);
  }

  // After: the recipient presses "unsubscribe" in their mail client (RFC
  // 8058 one-click), and the next check refuses.
  const clicked = await fetch(sent["cust-bought"], {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
  });
  assert.equal(clicked.status, 200);
  assert.equal(clicked.headers.get("consent-opt-out"), "recorded");
  const after = await ledger.check(campaignCheck("cust-bought"));
  assert.equal(after.allowed, false);
  assert.ok(after.reasonsAgainst.some((reason) => reason.ruleId === "R1"), JSON.stringify(after.reasonsAgainst));
});

test("a refused check says why, with its citation", async () => {
  const suppressed = await ledger.check(campaignCheck("cust-suppressed"));
  assert.equal(suppressed.allowed, false);
  assert.equal(suppressed.lawfulBasis, LawfulBasis.NONE);
  const optOut = suppressed.reasonsAgainst.find((reason) => reason.ruleId === "R1");
  assert.ok(optOut, "an R1 reason");
  assert.match(optOut.citation, /GDPR|PECR/);
  assert.ok(optOut.message.length > 0);
  assert.ok(optOut.eventIds.length > 0, "the reason names the opt-out it rests on");

  const unknown = await ledger.check(campaignCheck("cust-unknown"));
  assert.equal(unknown.allowed, false);
  const noBasis = unknown.reasonsAgainst.find((reason) => reason.ruleId === "R3");
  assert.equal(noBasis?.code, "no_basis_for_electronic_mail");
  assert.match(noBasis?.citation ?? "", /PECR 2003 reg 22/);
});

test("an invalid fact is refused naming its field, and nothing is appended", async () => {
  const good = sendRecorded("cust-consented", "never-sent");
  const bad: Init<typeof EnvelopeSchema> = {
    organisationId,
    subjectId: "cust-new",
    occurredAt: timestampNow(),
    payload: { case: "consentGiven", value: { channels: [Channel.EMAIL] } }, // no purpose
  };
  await assert.rejects(ledger.append([good, bad]), (error: unknown) => {
    assert.ok(error instanceof LedgerError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.field, "events[1].consent_given.purposes");
    assert.match(error.message, /purpose/);
    return true;
  });
  await ledger.check(campaignCheck("cust-consented")); // the view has the shop
  const history = await ledger.history(organisationId, "cust-new");
  assert.deepEqual(history.events, []);
});

test("history gives the facts and the decision they lead to", async () => {
  await ledger.check(campaignCheck("cust-consented")); // the view has the shop
  const history = await ledger.history(organisationId, "cust-consented", {
    decisionFor: campaignCheck("cust-consented"),
  });
  const first: Envelope | undefined = history.events[0]?.event;
  assert.equal(first?.payload.case, "consentGiven");
  if (first?.payload.case === "consentGiven") {
    assert.equal(first.payload.value.contactPoint?.value, customers["cust-consented"]);
  }
  assert.equal(history.decision?.allowed, true);
  assert.equal(history.decision?.lawfulBasis, LawfulBasis.CONSENT);
});

test("an exported bundle verifies offline, and a tampered one does not", async () => {
  await ledger.check(campaignCheck("cust-consented")); // the view has the shop
  const bundle = await ledger.export({
    organisationId,
    scope: { case: "subject", value: { subjectId: "cust-consented" } },
  });
  const key = await ledger.checkpointKey();

  const verified = await verifyBundle(bundle, key);
  assert.ok(verified.passed, JSON.stringify(verified.findings));
  assert.ok(verified.recordsProven >= 1);
  // The key text is `origin+keyid+public key`; a report names `origin+keyid`.
  assert.deepEqual(verified.signedBy, [key.split("+").slice(0, 2).join("+")]);

  const document = JSON.parse(new TextDecoder().decode(bundle)) as { records: { payload: string }[] };
  const payload = document.records[0].payload;
  document.records[0].payload = payload.slice(0, 10) + (payload[10] === "A" ? "B" : "A") + payload.slice(11);
  const tampered = join(await mkdtemp(join(tmpdir(), "consent-tampered-")), "tampered.bundle.json");
  await writeFile(tampered, JSON.stringify(document));
  const refused = await verifyBundle(tampered, key);
  assert.equal(refused.passed, false);
  assert.ok(refused.findings.length > 0);
});
