/**
 * TEMPORARY stand-in for scripts/sla/sla.ts (branch `load`) until it is merged: the same
 * contract (`parseDuration`, `loadSla`, `evaluate`) so the rollout code compiles and its tests
 * run. Delete this file and import from "../sla/sla.ts" once that lands.
 *
 * @module
 */
import { z } from "zod";

/** Parses `500ms`, `30s`, `10m`, `1h`, `1m30s` into milliseconds. @throws {RangeError} */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text.trim());
  if (!match || text.trim() === "") {
    throw new RangeError(`expected a duration like 30s, 10m, 1h or 1m30s, received "${text}"`);
  }
  const [, h = "0", m = "0", s = "0", ms = "0"] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(ms);
}

const level = z.number().nullable();
const metricSchema = z.object({
  better: z.enum(["lower", "higher"]),
  target: level,
  warning: level,
  critical: level,
  rollback: level,
});

const slaSchema = z.object({
  metrics: z.record(z.string(), metricSchema),
  analysis: z.object({
    interval: z.string(),
    threshold: z.number().int().positive(),
    min_requests: z.number().int().nonnegative(),
  }),
});

/** config/sla.json. */
export type Sla = z.infer<typeof slaSchema>;

/** Reads and validates config/sla.json. */
export async function loadSla(
  path: string | URL = new URL("../../config/sla.json", import.meta.url),
): Promise<Sla> {
  return slaSchema.parse(JSON.parse(await Deno.readTextFile(path)));
}

/** Judges one value against a metric's levels. */
export function evaluate(
  sla: Sla,
  metric: string,
  value: number | null | undefined,
): "pass" | "warn" | "rollback" | "no_data" {
  const spec = sla.metrics[metric];
  if (!spec) throw new RangeError(`unknown SLA metric ${metric}`);
  if (value === null || value === undefined || Number.isNaN(value)) return "no_data";
  const crosses = (limit: number | null) =>
    limit !== null && (spec.better === "lower" ? value > limit : value < limit);
  if (crosses(spec.rollback)) return "rollback";
  if (crosses(spec.warning)) return "warn";
  return "pass";
}
