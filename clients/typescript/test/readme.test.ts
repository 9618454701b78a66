/** The README's send pipeline: the README shows examples/send_pipeline.ts's lines, and they run. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, test } from "node:test";
import { sendPipeline } from "../examples/send_pipeline.js";
import { baseUrl, campaignCheck, customers, ledger, openShop, organisationId } from "./shop.js";

before(openShop);

/** The lines between `// README begin` and `// README end`, unindented once. */
async function exampleLines(): Promise<string> {
  const source = await readFile(new URL("../../examples/send_pipeline.ts", import.meta.url), "utf8");
  const block = source.split("// README begin\n")[1].split("  // README end")[0];
  return block
    .split("\n")
    .map((line) => line.replace(/^ {2}/, ""))
    .join("\n")
    .replace("LEDGER_URL", '"https://consent.example.org"');
}

test("the README shows the example's lines, ten of them", async () => {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("## The send pipeline")[1];
  const shown = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(shown, "the README's send pipeline has a ts block");
  assert.equal(shown, await exampleLines());
  assert.ok(shown.trim().split("\n").length <= 10, shown);
});

test("the README's send pipeline sends to the allowed, with their unsubscribe URLs", async () => {
  await ledger.check(campaignCheck("cust-consented")); // the view has the shop
  const outbox: [string, Record<string, string>][] = [];
  await sendPipeline(
    baseUrl,
    process.env.CONSENT_LEDGER_API_KEY,
    organisationId,
    ["cust-consented", "cust-unknown"].map((subject) => [subject, customers[subject]]),
    async (address, headers) => {
      outbox.push([address, headers]);
    },
  );
  assert.deepEqual(
    outbox.map(([address]) => address),
    [customers["cust-consented"]],
  );
  const headers = outbox[0][1];
  assert.match(headers["List-Unsubscribe"], new RegExp(`^<${baseUrl.replace(/[.]/g, "\\.")}/u/[A-Za-z0-9_-]+>$`));
  assert.equal(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
});
