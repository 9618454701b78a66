/**
 * The README's send pipeline, as a function (test/readme.test.ts runs it
 * against a real ledger and checks that the README shows these very lines).
 */
import { Channel, ContactKind, Ledger, MessageClass, Purpose, timestampNow } from "../src/index.js";

export type SendEmail = (address: string, headers: Record<string, string>) => Promise<void>;

export async function sendPipeline(
  LEDGER_URL: string,
  API_KEY: string | undefined,
  ORG: string,
  recipients: [string, string][],
  sendEmail: SendEmail,
): Promise<void> {
  // README begin
  const ledger = new Ledger(LEDGER_URL, { apiKey: API_KEY });
  const spring = { channel: Channel.EMAIL, purpose: Purpose.COMMERCIAL, productCategoryId: "bikes", messageClass: MessageClass.MARKETING,
                   promotionalContent: true, optOutIncluded: true, senderIdentified: true };
  for (const [subjectId, address] of recipients) {
    const to = { kind: ContactKind.EMAIL, value: address };
    if (!(await ledger.check({ organisationId: ORG, subjectId, contactPoint: to, ...spring })).allowed) continue; // reasonsAgainst say why
    const sent = await ledger.append([{ organisationId: ORG, subjectId, occurredAt: timestampNow(),
      payload: { case: "marketingMessageSent", value: { messageId: `spring-${subjectId}`, contactPoint: to, ...spring } } }]);
    await sendEmail(address, { "List-Unsubscribe": `<${sent.appended[0].unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" });
  }
  // README end
}
