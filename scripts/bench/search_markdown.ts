/**
 * The markdown bench:search writes (reports/bench/search.md) and prints: its settings and
 * method, every contender at every level, the ratios to the optimized path, the isolates series
 * and the targets.
 *
 * @module
 */
import { describeMachine } from "../load/machine.ts";
import { renderIsolatesMarkdown } from "./search_isolates.ts";
import { renderFloorMarkdown } from "./search_floor_markdown.ts";
import { queriesPerRequest, type SearchReport, searchResultAt } from "./search_report.ts";
import { round } from "./wave_summary.ts";

const cellMs = (v: number | null) => (v === null ? "–" : String(v));

/** The markdown of reports/bench/search.md. */
export function renderMarkdown(report: SearchReport): string {
  const { meta, settings, method, results, targets } = report;
  const lines: string[] = [];
  lines.push("# flight-search benchmark", "");
  lines.push(
    `Started ${meta.startedAt} (finished ${meta.endedAt}) on ${describeMachine(meta.machine)}.`,
    "",
    `Command: \`${meta.command}\``,
    "",
    `Levels ${settings.levels.join(", ")} · ${settings.requests} requests per level and ` +
      `contender · proxy +${settings.delayMsEachWay} ms each way · ${settings.seededFlights} ` +
      `flights · ${settings.connectionMode} connections (${settings.namedParses} named prepared statements) · DB pool ${settings.dbPoolMax} per isolate · coalescing ${
        JSON.stringify(settings.coalescing)
      }`,
    "",
    `Paths forced with ${method.pathSelection}. Result cache ${method.resultCache}. Queries counted by the ${method.queryCounting}. Client: ${method.client}. Peer: ${method.peer}.`,
    "",
  );
  lines.push(
    "| contender | N | waves | queries/wave (median) | min–max | round trips/wave (median) | min–max | queries/request | p50 ms | p95 ms | p99 ms | server p50 | server p95 | req/s | errors | other queries |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of results) {
    lines.push(
      `| ${r.contender} | ${r.level} | ${r.waves} | ${r.queriesPerWave.median} | ${r.queriesPerWave.min}–${r.queriesPerWave.max} | ${r.roundTripsPerWave.median} | ${r.roundTripsPerWave.min}–${r.roundTripsPerWave.max} | ${
        round(queriesPerRequest(r), 2)
      } | ${r.latencyMs.p50} | ${r.latencyMs.p95} | ${r.latencyMs.p99} | ${
        cellMs(r.serverLatencyMs.p50)
      } | ${
        cellMs(r.serverLatencyMs.p95)
      } | ${r.requestsPerSecond} | ${r.errors} | ${r.otherQueries} |`,
    );
  }
  lines.push("", "## Ratios", "");
  lines.push(
    "| N | legacy ÷ optimized queries | peer ÷ optimized queries | legacy ÷ optimized p95 | peer ÷ optimized p95 |",
    "|---:|---:|---:|---:|---:|",
  );
  for (const level of settings.levels) {
    const o = searchResultAt(report, "optimized", level);
    const l = searchResultAt(report, "legacy", level);
    const p = searchResultAt(report, "dataloader", level);
    if (!o || !l || !p) continue;
    lines.push(
      `| ${level} | ${round(l.queriesPerWave.mean / o.queriesPerWave.mean, 2)} | ${
        round(p.queriesPerWave.mean / o.queriesPerWave.mean, 2)
      } | ${round(l.latencyMs.p95 / o.latencyMs.p95, 2)} | ${
        round(p.latencyMs.p95 / o.latencyMs.p95, 2)
      } |`,
    );
  }
  lines.push(...renderFloorMarkdown(report.floor));
  lines.push(...renderIsolatesMarkdown(report.isolates));
  lines.push(
    "",
    "## Targets (issue 14)",
    "",
    "| target | goal | measured | |",
    "|---|---|---|---|",
  );
  for (const t of targets) {
    lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`);
  }
  return lines.join("\n") + "\n";
}
