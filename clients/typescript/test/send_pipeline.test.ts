/**
 * The send pipeline as a marketing-ops program runs it, against a real
 * ledger: pre-flight, check each recipient by address, record the send with
 * its unsubscribe URL, and what the ledger says when it refuses.
 */
import assert from "node:assert/strict";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import {
  Channel,
  type Envelope,
  type EnvelopeSchema,
  type Init,
  LawfulBasis,
  LedgerError,
  timestampNow,
  verifyBundle,
} from "../src/index.js";
import { baseUrl, campaignCheck, customers, ledger, openShop, organisationId, sendRecorded } from "./shop.js";

const RECIPIENTS = ["cust-consented", "cust-bought", "cust-suppressed", "cust-unknown"];

before(openShop);

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

test("one invalid check of a batch is refused naming its index and field", async () => {
  const noChannel = campaignCheck("cust-bought", { channel: Channel.UNSPECIFIED });
  await assert.rejects(ledger.checkBatch([campaignCheck("cust-consented"), noChannel]), (error: unknown) => {
    assert.ok(error instanceof LedgerError);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.field, "checks[1].channel");
    return true;
  });
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
