/**
 * The report's section for `deno task bench:faults`: per fault, what clients saw while a
 * dependency was frozen, killed or hanging, and how fast the functions came back.
 *
 * @module
 */
import { describeMachine } from "../load/machine.ts";
import type { FaultsReport } from "../bench/faults_report.ts";
import { fmtFixed as fmt } from "./format.ts";
import type { Input } from "./inputs.ts";
import { type Section, sectionOf, targetsTable } from "./section.ts";

/** What the benchmark held fixed, and how its figures are counted. */
function settingsNote(s: FaultsReport["settings"]): string {
  return `${s.concurrency} concurrent clients; each fault held ${s.faultMs} ms; ` +
    `${Math.round(s.cachedShare * 100)}% of searches ask for a cached answer. "Within budget" ` +
    "counts answers (any status) within the function's budget plus the margin; recovery is " +
    "measured from the fault's end (SIGCONT, the restart, the endpoint answering again) to the " +
    "first successful cache-missing request.";
}

/** The fault benchmark's section: a table per fault, a latency chart, its targets. */
export function faultsSection(input: Input<FaultsReport>): Section {
  const head = {
    id: "faults-bench",
    title: "Dependency faults under load: budgets, 503s and circuit breakers (benchmark)",
    command: "deno task bench:faults",
  };
  return sectionOf(head, input, (bench) => ({
    command: bench.meta.command,
    notes: [settingsNote(bench.settings)],
    ranAt: bench.meta.startedAt,
    machine: describeMachine(bench.meta.machine),
    tables: [{
      caption: "Per fault (client-side latency; open-breaker answers: the function's own time)",
      columns: [
        "Fault",
        "Function (budget)",
        "Requests",
        "Within budget",
        "Statuses",
        "p50 ms",
        "p99 ms",
        "Breaker open after ms",
        "Open-breaker answer p50 ms",
        "Recovered after ms",
      ],
      rows: bench.results.map((r) => [
        r.label,
        `${r.function} (${r.budgetMs} ms + ${r.marginMs} ms)`,
        String(r.requests),
        `${r.withinBudgetPct.toFixed(1)}%`,
        Object.entries(r.statusHistogram).map(([k, n]) => `${k}: ${n}`).join(", ") +
        (Object.keys(r.errorCodes).length > 0
          ? ` (${Object.entries(r.errorCodes).map(([c, n]) => `${c} ${n}`).join(", ")})`
          : ""),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        fmt(r.breakerOpenAfterMs),
        fmt(r.openBreakerP50Ms, 1),
        fmt(r.recoveredAfterMs),
      ]),
    }, targetsTable(bench.targets)],
    charts: [{
      id: "faults-latency",
      title: "Latency during each fault",
      kind: "bar",
      xTitle: "fault",
      yTitle: "ms",
      labels: bench.results.map((r) => r.name),
      datasets: [
        { label: "p50", data: bench.results.map((r) => r.p50Ms) },
        { label: "p99", data: bench.results.map((r) => r.p99Ms) },
        { label: "budget", data: bench.results.map((r) => r.budgetMs) },
      ],
    }],
  }));
}
