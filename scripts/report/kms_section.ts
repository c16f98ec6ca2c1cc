/**
 * The report's section for `deno task bench:kms`: per contender (naive, pooled client, data-key
 * cache, AWS Encryption SDK), latency per operation and the KMS calls and connections the KMS
 * endpoint counted, their ratios and the benchmark's targets.
 *
 * @module
 */
import { describeMachine } from "../load/machine.ts";
import type { KmsReport } from "../bench/kms_report.ts";
import { fmtMs, fmtNum, fmtPct } from "./format.ts";
import type { Input } from "./inputs.ts";
import { type ChartSpec, type Section, sectionOf, type Table, targetsTable } from "./section.ts";

/** One row per contender. */
function contendersTable(bench: KmsReport): Table {
  return {
    caption: "Per contender (KMS calls and connections counted by the KMS endpoint)",
    columns: [
      "Contender",
      "Operations",
      "Encrypt p50 ms",
      "Encrypt p95 ms",
      "Decrypt p50 ms",
      "Decrypt p95 ms",
      "KMS calls",
      "New connections",
      "New connections / 100 ops",
      "Connection reuse",
    ],
    rows: bench.results.map((r) => [
      r.label,
      fmtNum(r.encrypt.n + r.decrypt.n),
      fmtMs(r.encrypt.p50),
      fmtMs(r.encrypt.p95),
      fmtMs(r.decrypt.p50),
      fmtMs(r.decrypt.p95),
      `${fmtNum(r.kmsCallsTotal)} (${
        Object.entries(r.kmsCalls).map(([op, n]) => `${op} ${n}`).join(", ")
      })`,
      fmtNum(r.connections),
      fmtNum(r.connectionsPer100Ops, 1),
      fmtPct(r.reuseRatio),
    ]),
  };
}

/** Latency per operation, and KMS calls against new connections, per contender. */
function kmsCharts(bench: KmsReport): ChartSpec[] {
  const labels = bench.results.map((r) => r.label);
  return [
    {
      id: "kms-latency",
      title: "Latency per operation",
      kind: "bar",
      xTitle: "contender",
      yTitle: "ms",
      labels,
      datasets: [
        { label: "encrypt p50", data: bench.results.map((r) => r.encrypt.p50) },
        { label: "encrypt p95", data: bench.results.map((r) => r.encrypt.p95) },
        { label: "decrypt p50", data: bench.results.map((r) => r.decrypt.p50) },
        { label: "decrypt p95", data: bench.results.map((r) => r.decrypt.p95) },
      ],
    },
    {
      id: "kms-calls",
      title: "KMS calls and new connections",
      kind: "bar",
      xTitle: "contender",
      yTitle: "count",
      labels,
      datasets: [
        { label: "KMS calls", data: bench.results.map((r) => r.kmsCallsTotal) },
        { label: "new connections", data: bench.results.map((r) => r.connections) },
      ],
    },
  ];
}

/** The KMS benchmark's section. */
export function kmsSection(input: Input<KmsReport>): Section {
  const head = {
    id: "kms-bench",
    title:
      "Payment KMS: naive vs pooled client vs data-key cache vs AWS Encryption SDK (benchmark)",
    command: "deno task bench:kms",
  };
  return sectionOf(head, input, (bench) => {
    const s = bench.settings;
    return {
      command: bench.meta.command,
      notes: [
        `Settings: ${s.operations} encryptions then ${s.operations} decryptions per scenario ` +
        `(${s.warmup} warm-up first) of a ${s.payloadBytes}-byte record; ` +
        `${s.https ? "HTTPS" : "HTTP"} endpoint, ${s.rttMs} ms per request, ${s.handshakeMs} ms ` +
        `more per new connection; data-key cache ${s.maxMessages} messages / ${
          s.maxAgeMs / 1000
        } s / ${s.maxBytes} bytes per key.`,
      ],
      ranAt: bench.meta.startedAt,
      machine: describeMachine(bench.meta.machine),
      tables: [contendersTable(bench), {
        caption: "Ratios",
        columns: ["Ratio", "Value"],
        rows: Object.entries(bench.ratios).map(([name, v]) => [name, fmtNum(v, 2)]),
      }, targetsTable(bench.targets)],
      charts: kmsCharts(bench),
    };
  });
}
