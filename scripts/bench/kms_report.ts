/**
 * The report `deno task bench:kms` writes (reports/bench/kms.json): one schema, used by the
 * benchmark to validate what it writes and by the readiness report to read it; and its markdown
 * rendering (reports/bench/kms.md).
 *
 * @module
 */
import { z } from "zod";
import { describeMachine } from "../load/machine.ts";
import { benchRunSchema, benchTargetSchema } from "./bench_run.ts";

const count = z.number().int().nonnegative();

/** zod schema of the latency of one operation kind, ms. */
export const kmsLatencySchema = z.object({
  n: count,
  p50: z.number().nonnegative(),
  p95: z.number().nonnegative(),
  mean: z.number().nonnegative(),
});

/** zod schema of one scenario (contender): its latencies and what the endpoint counted. */
export const kmsScenarioResultSchema = z.object({
  /**
   * `naive`, `pooled`, `pooled_cached`, `aws_encryption_sdk`, `new_cards_pooled_cached`,
   * `new_cards_aws_encryption_sdk`.
   */
  name: z.string().min(1),
  /** For people, e.g. `pooled client + data-key cache`. */
  label: z.string().min(1),
  /**
   * `same_card`: every operation on one record; `new_cards`: every operation a new row of a new
   * user. Reports written before the new-cards workload have none: read it as `same_card`.
   */
  workload: z.enum(["same_card", "new_cards"]).optional(),
  encrypt: kmsLatencySchema,
  decrypt: kmsLatencySchema,
  /** KMS API calls by operation (GenerateDataKey, Decrypt, ...), counted by the endpoint. */
  kmsCalls: z.record(z.string(), count),
  kmsCallsTotal: count,
  /** HTTP requests the endpoint received. */
  requests: count,
  /** TCP connections the endpoint accepted: new connections. */
  connections: count,
  connectionsPer100Ops: z.number().nonnegative(),
  /** Share of requests that reused a connection; null without requests. */
  reuseRatio: z.number().min(0).max(1).nullable(),
});

/** One scenario's result. */
export type KmsScenarioResult = z.output<typeof kmsScenarioResultSchema>;

/** zod schema of reports/bench/kms.json. */
export const kmsReportSchema = z.object({
  meta: benchRunSchema,
  settings: z.object({
    /** Encryptions (and as many decryptions) per scenario. */
    operations: z.number().int().positive(),
    /** Unmeasured operations per scenario first. */
    warmup: count,
    /** Round trip injected per KMS request. */
    rttMs: z.number().nonnegative(),
    /** Extra delay on a new connection (handshake round trips × rtt). */
    handshakeMs: z.number().nonnegative(),
    https: z.boolean(),
    /** Data-key cache limits. */
    maxMessages: z.number().int().positive(),
    maxAgeMs: z.number().int().positive(),
    maxBytes: z.number().int().positive(),
    payloadBytes: z.number().int().positive(),
  }),
  results: z.array(kmsScenarioResultSchema).min(1),
  /** Named ratios between scenarios; null when a divisor was 0. */
  ratios: z.record(z.string(), z.number().nullable()),
  targets: z.array(benchTargetSchema),
});

/** reports/bench/kms.json, validated. */
export type KmsReport = z.output<typeof kmsReportSchema>;

/** A figure as bench:kms prints it: `digits` decimals, `—` for none. */
export function kmsFigure(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || Number.isNaN(x) ? "—" : x.toFixed(digits);
}

const fmt = kmsFigure;

/** The markdown of reports/bench/kms.md. */
export function kmsMarkdown(report: KmsReport): string {
  const s = report.settings;
  const lines = [
    `# KMS benchmark`,
    "",
    `Started ${report.meta.startedAt} (finished ${report.meta.endedAt}) on ` +
    `${describeMachine(report.meta.machine)}.`,
    "",
    `Command: \`${report.meta.command}\``,
    "",
    `Workload per scenario: ${s.operations} encryptions of a ${s.payloadBytes}-byte card record, ` +
    `then ${s.operations} decryptions (after ${s.warmup} unmeasured warm-up operations) — ` +
    `"same card": every operation on one record; "new cards": every operation a new row of a ` +
    `new user (our envelopes: the row in the AAD, the KMS context shared; the AWS Encryption ` +
    `SDK: the row in its encryption context). Endpoint over ` +
    `${s.https ? "HTTPS" : "HTTP"} with ${s.rttMs} ms injected per request and ` +
    `${s.handshakeMs} ms more on a new connection (TCP + TLS handshake round trips); ` +
    `data-key cache: ${s.maxMessages} messages, ${s.maxAgeMs / 1000} s, ${s.maxBytes} bytes ` +
    `per key.`,
    "",
    "| scenario | workload | encrypt p50 | encrypt p95 | decrypt p50 | decrypt p95 | KMS calls (GenerateDataKey + Decrypt) | new connections | new connections / 100 ops | reuse ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...report.results.map((r) =>
      `| ${r.label} | ${(r.workload ?? "same_card").replace("_", " ")} | ${
        fmt(r.encrypt.p50)
      } ms | ${fmt(r.encrypt.p95)} ms | ${fmt(r.decrypt.p50)} ms | ` +
      `${fmt(r.decrypt.p95)} ms | ${r.kmsCallsTotal} (${r.kmsCalls.GenerateDataKey ?? 0} + ` +
      `${r.kmsCalls.Decrypt ?? 0}) | ${r.connections} | ${fmt(r.connectionsPer100Ops)} | ${
        fmt(r.reuseRatio, 3)
      } |`
    ),
    "",
    "Ratios:",
    "",
    ...Object.entries(report.ratios).map(([k, v]) => `- ${k}: ${fmt(v)}`),
    "",
    "Targets:",
    "",
    "| target | goal | measured | |",
    "| --- | --- | --- | --- |",
    ...report.targets.map((t) =>
      `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`
    ),
    "",
  ];
  return lines.join("\n");
}
