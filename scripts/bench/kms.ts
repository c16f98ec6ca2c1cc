/**
 * `deno task bench:kms`: the cost of KMS-backed envelope encryption, in one run against the
 * project's KMS endpoint over HTTPS with an injected network round trip.
 *
 * Workload "same card" (every operation on one record, one encryption context), four ways:
 *
 * 1. naive — a new KMS client per operation (the original "before"): a TCP + TLS handshake and a
 *    KMS round trip every time.
 * 2. pooled — one keep-alive client for the run (what each isolate does).
 * 3. pooled + cache — plus the data-key cache (`DataKeyCache`): KMS only every `maxMessages`.
 * 4. AWS Encryption SDK — `@aws-crypto/client-node` with its caching materials manager and the
 *    same limits, its KMS keyring on the same pooled client: the peer.
 *
 * Workload "new cards" (every operation a new row of a new user, as `POST /payment-methods`
 * does), two ways:
 *
 * 5. pooled + cache — envelope format 2: the KMS context holds what cards share, the row is
 *    bound through the AAD, so one data key serves up to `maxMessages` new cards.
 * 6. AWS Encryption SDK — its caching CMM with the row in the encryption context, as a user of
 *    that SDK binds a ciphertext to its row (its encryption context is its only AAD, and goes to
 *    KMS); after decrypting, the row's context is checked against the message header.
 *
 * Each scenario gets a fresh endpoint, so its connection and call counts are its own. The
 * endpoint delays every request by the round trip and the first request of each connection by
 * `handshake-rtts` more round trips (TCP + TLS 1.3 handshakes over a real network; the real TLS
 * handshake on loopback happens too). Each workload: `operations` encryptions of a card-sized
 * record, then the decryption of each envelope (with its own row's scope).
 *
 * Prints a table and writes reports/bench/kms.json and reports/bench/kms.md. The contenders are
 * ./kms_contenders.ts, one scenario's run ./kms_scenario.ts, the ratios and targets
 * ./kms_targets.ts, the report and its markdown ./kms_report.ts.
 *
 * @module
 */
import { z } from "zod";
import { machineInfo } from "../load/machine.ts";
import { reportsDir } from "../local/paths.ts";
import { benchCommand } from "./bench_run.ts";
import { contenders, maxAgeMs, maxBytes, payload } from "./kms_contenders.ts";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runCommand, showUsage } from "../_cli/run_main.ts";
import {
  kmsFigure as fmt,
  kmsMarkdown,
  type KmsReport as Report,
  kmsReportSchema,
  type KmsScenarioResult as ScenarioResult,
} from "./kms_report.ts";
import { runScenario } from "./kms_scenario.ts";
import { kmsRatios, kmsTargets } from "./kms_targets.ts";

const usage = `Usage: deno task bench:kms [options]

  --operations N      encryptions (and as many decryptions) per scenario   default 200
  --rtt-ms N          injected round trip per KMS request, ms               default 20
  --handshake-rtts N  extra round trips on a new connection (TCP + TLS)     default 2
  --max-messages N    data-key cache: messages per data key                 default 100
  --warmup N          unmeasured operations per scenario first (JIT, loading) default 20
  --no-https          plain HTTP to the endpoint
  --out DIR           where kms.json and kms.md go                          default $REPORTS_DIR/bench, else reports/bench
  -h, --help`;

const optionsSchema = z.object({
  operations: z.coerce.number().int().min(1).max(100_000).default(200),
  rttMs: z.coerce.number().min(0).max(1000).default(20),
  handshakeRtts: z.coerce.number().int().min(0).max(10).default(2),
  maxMessages: z.coerce.number().int().min(1).max(1_000_000).default(100),
  warmup: z.coerce.number().int().min(0).max(10_000).default(20),
  https: z.boolean().default(true),
  out: z.string().min(1).default(`${reportsDir}/bench`),
});
type Options = z.output<typeof optionsSchema>;

/**
 * Runs the benchmark with command-line `args`; resolves to the exit code (2 for a bad option).
 */
export function main(args: string[]): Promise<number> {
  return runCommand(bench, args, { usage });
}

async function bench(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    strings: ["operations", "rtt-ms", "handshake-rtts", "max-messages", "warmup", "out"],
    switches: ["no-https"],
  });
  if (values.help) return showUsage(usage);
  const options = validateOptions(optionsSchema, {
    ...camelKeys(values),
    https: !values["no-https"],
  });
  const startedAt = new Date();
  const results = await runAll(options);
  // Validated before it is written: the readiness report reads it with the same schema.
  const report: Report = kmsReportSchema.parse({
    meta: {
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      machine: machineInfo(),
      command: benchCommand("bench:kms", args),
    },
    settings: {
      operations: options.operations,
      warmup: options.warmup,
      rttMs: options.rttMs,
      handshakeMs: options.rttMs * options.handshakeRtts,
      https: options.https,
      maxMessages: options.maxMessages,
      maxAgeMs,
      maxBytes,
      payloadBytes: payload.length,
    },
    results,
    ratios: kmsRatios(results),
    targets: kmsTargets(results, options),
  });
  const md = kmsMarkdown(report);
  await Deno.mkdir(options.out, { recursive: true });
  await Deno.writeTextFile(`${options.out}/kms.json`, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(`${options.out}/kms.md`, md);
  console.log(md);
  console.error(`wrote ${options.out}/kms.json and ${options.out}/kms.md`);
  return 0;
}

/**
 * Every contender: first unmeasured (JIT, module loading) against throw-away endpoints without
 * injected latency, then measured, each scenario's figures printed as it ends.
 */
async function runAll(options: Options): Promise<ScenarioResult[]> {
  if (options.warmup > 0) {
    const warm = { ...options, operations: options.warmup, rttMs: 0, handshakeRtts: 0 };
    for (const contender of contenders) await runScenario(contender, warm);
  }
  const results: ScenarioResult[] = [];
  for (const contender of contenders) {
    const result = await runScenario(contender, options);
    results.push(result);
    console.error(
      `${contender.label}: encrypt p50 ${fmt(result.encrypt.p50)} ms, decrypt p50 ` +
        `${fmt(result.decrypt.p50)} ms, ${result.kmsCallsTotal} KMS calls, ` +
        `${result.connections} connections`,
    );
  }
  return results;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
