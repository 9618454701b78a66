/**
 * Offline verification of an evidence bundle, by the ledger's own verifier.
 *
 * A bundle proves itself with nothing but the bundle, the ledger's published
 * key and the rules built into the `consent-ledger` binary
 * (docs/EVIDENCE.md). This helper runs that binary's
 * `consent-ledger verify BUNDLE --key KEY --json` rather than a second
 * implementation of the checks: the checkpoint's signature, every record's
 * Merkle inclusion proof, the consistency with a previous checkpoint, and
 * every decision decided again under its rule set.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VerificationError } from "./errors.js";

/** `consent-ledger verify`'s exit status for a bundle that does not verify. */
const EXIT_FAILED_VERIFICATION = 4;

/** What the verifier found: `passed` when nothing is wrong. */
export interface Verification {
  passed: boolean;
  /** Each thing found wrong, as the verifier describes it (empty when passed). */
  findings: unknown[];
  /** Records whose inclusion in the signed checkpoint was proven. */
  recordsProven: number;
  /** Decisions decided again. */
  decisions: number;
  /** The trusted keys (`origin+keyid`) that signed the bundle's checkpoint. */
  signedBy: string[];
  /** The verifier's whole JSON report. */
  report: Record<string, unknown>;
}

export interface VerifyOptions {
  /** The verifier binary; `CONSENT_LEDGER_BIN`, else `consent-ledger` on PATH. */
  binary?: string;
  /** Milliseconds before the verifier is stopped; 120 000 by default. */
  timeoutMs?: number;
}

/**
 * Verifies `bundle` (its bytes, or the path of its file) against the trusted
 * `keys` (the key text the ledger publishes, e.g. `Ledger.checkpointKey()`,
 * or files holding it; several for rotated keys). Rejects with a
 * {@link VerificationError} when the verifier cannot run; a bundle that does
 * not verify is `passed: false` with its findings.
 */
export async function verifyBundle(
  bundle: Uint8Array | string,
  keys: string | string[],
  options: VerifyOptions = {},
): Promise<Verification> {
  const trusted = typeof keys === "string" ? [keys] : keys;
  if (trusted.length === 0) {
    throw new VerificationError("verifyBundle: at least one trusted key is needed");
  }
  const binary = options.binary ?? process.env.CONSENT_LEDGER_BIN ?? "consent-ledger";
  const scratch = await mkdtemp(join(tmpdir(), "consent-bundle-"));
  try {
    let path = typeof bundle === "string" ? bundle : join(scratch, "bundle.json");
    if (typeof bundle !== "string") {
      await writeFile(path, bundle);
    }
    const args = ["verify", path, "--json", ...trusted.flatMap((key) => ["--key", key])];
    const { code, stdout, stderr } = await run(binary, args, options.timeoutMs ?? 120_000);
    if (code !== 0 && code !== EXIT_FAILED_VERIFICATION) {
      throw new VerificationError(`\`consent-ledger verify\` could not run (exit ${code}): ${stderr.trim()}`);
    }
    let report: Record<string, unknown>;
    try {
      report = JSON.parse(stdout) as Record<string, unknown>;
    } catch (error) {
      throw new VerificationError(`the verifier's report is not JSON: ${String(error)}`);
    }
    const findings = Array.isArray(report.findings) ? report.findings : [];
    return {
      passed: code === 0 && findings.length === 0,
      findings,
      recordsProven: Number(report.records_proven ?? 0),
      decisions: Number(report.decisions ?? 0),
      signedBy: Array.isArray(report.checkpoint_signed_by) ? report.checkpoint_signed_by.map(String) : [],
      report,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr });
      } else if (typeof error.code === "number") {
        resolve({ code: error.code, stdout, stderr });
      } else {
        reject(
          new VerificationError(
            `running ${binary}: ${error.message} (install the consent-ledger binary, or give its path as \`binary\` or in CONSENT_LEDGER_BIN)`,
          ),
        );
      }
    });
  });
}
