/**
 * The report `deno task bench:faults` writes (reports/bench/faults.json): one schema, used by the
 * benchmark to validate what it writes and by the readiness report to read it, and its markdown.
 *
 * @module
 */
import { z } from "zod";
import { benchRunSchema, benchTargetSchema } from "./bench_run.ts";

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

/** zod schema of one fault's result. */
export const faultResultSchema = z.object({
  /** `postgres_freeze`, `postgres_kill`, `redis_freeze`, `kms_hang`. */
  name: z.string().min(1),
  /** For people, e.g. `Postgres frozen (SIGSTOP on every process)`. */
  label: z.string().min(1),
  /** The function under load and its budget. */
  function: z.string().min(1),
  budgetMs: ms,
  /** How long the fault lasted, ms. */
  faultMs: ms,
  /** Requests started from the fault's start until the load stopped. */
  requests: count,
  /** Share of them answered (any status) within the budget plus the margin, 0..100. */
  withinBudgetPct: z.number().min(0).max(100),
  /** The margin on top of the budget, ms (gateway, client, a loaded machine). */
  marginMs: ms,
  /** Answers by status; `0` counts requests with no answer at the client's give-up time. */
  statusHistogram: z.record(z.string(), count),
  /** Error answers by `error.code` (e.g. database_unavailable). */
  errorCodes: z.record(z.string(), count),
  p50Ms: ms.nullable(),
  p99Ms: ms.nullable(),
  maxMs: ms.nullable(),
  /** From the fault's start until the breaker was seen open; null when it never opened. */
  breakerOpenAfterMs: ms.nullable(),
  /**
   * The function's own time (server-timing) of the fast 503s while the fault lasted — an open
   * breaker's refusals: p50, ms; null without any or without server-timing (payment-methods).
   */
  openBreakerP50Ms: ms.nullable(),
  /** From the end of the fault (SIGCONT, restart, endpoint answering) until the first 200 miss. */
  recoveredAfterMs: ms.nullable(),
});

/** One fault's result. */
export type FaultResult = z.output<typeof faultResultSchema>;

/** zod schema of reports/bench/faults.json. */
export const faultsReportSchema = z.object({
  meta: benchRunSchema,
  settings: z.object({
    /** Concurrent clients during each fault. */
    concurrency: z.number().int().positive(),
    faultMs: z.number().int().positive(),
    /** Share of searches that ask for a cached answer, 0..1. */
    cachedShare: z.number().min(0).max(1),
  }),
  results: z.array(faultResultSchema).min(1),
  targets: z.array(benchTargetSchema),
});

/** reports/bench/faults.json, validated. */
export type FaultsReport = z.output<typeof faultsReportSchema>;

const fmt = (value: number | null, digits = 0) => value === null ? "–" : value.toFixed(digits);

/** The markdown of reports/bench/faults.md. */
export function faultsMarkdown(report: FaultsReport): string {
  const lines = [
    "# Fault benchmark",
    "",
    `\`${report.meta.command}\` — ${report.meta.startedAt}, ${report.settings.concurrency} ` +
    `concurrent clients, each fault held ${report.settings.faultMs} ms.`,
    "",
    "| fault | requests | within budget | statuses | p50 ms | p99 ms | breaker open after ms | open-breaker answer ms | recovered after ms |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of report.results) {
    const codes = Object.entries(r.errorCodes).map(([c, n]) => `${c} ${n}`).join(", ");
    const statuses = Object.entries(r.statusHistogram).map(([s, n]) => `${s}: ${n}`).join(", ") +
      (codes ? ` (${codes})` : "");
    lines.push(
      `| ${r.label} (${r.function}, budget ${r.budgetMs} ms) | ${r.requests} | ` +
        `${r.withinBudgetPct.toFixed(1)} % | ${statuses} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ` +
        `${fmt(r.breakerOpenAfterMs)} | ${fmt(r.openBreakerP50Ms, 1)} | ${
          fmt(r.recoveredAfterMs)
        } |`,
    );
  }
  lines.push("", "| target | goal | measured | met |", "| --- | --- | --- | --- |");
  for (const t of report.targets) {
    lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? "yes" : "no"} |`);
  }
  return lines.join("\n") + "\n";
}
