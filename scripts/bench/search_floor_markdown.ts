/**
 * The no-database floor of `bench:search` (search_floor.ts) as a markdown section.
 *
 * @module
 */
import type { SearchFloorResult } from "./search_floor.ts";

const cell = (v: number | null) => (v === null ? "–" : String(v));

/** Lines of the floor section; none when the report has no floor. */
export function renderFloorMarkdown(floor: readonly SearchFloorResult[] | undefined): string[] {
  if (!floor || floor.length === 0) return [];
  return [
    "",
    "## No-database floor",
    "",
    "The optimized path's isolate answering every search from its in-isolate result cache: what a wave costs with no database work at all (client, HTTP, JWT, validation, JSON on this machine).",
    "",
    "| N | waves | p50 ms | p95 ms | p99 ms | server p50 | server p95 | not from the cache |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...floor.map((f) =>
      `| ${f.level} | ${f.waves} | ${f.latencyMs.p50} | ${f.latencyMs.p95} | ${f.latencyMs.p99} | ${
        cell(f.serverLatencyMs.p50)
      } | ${cell(f.serverLatencyMs.p95)} | ${f.misses} |`
    ),
  ];
}
