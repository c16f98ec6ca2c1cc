/**
 * config/sla.json, read and validated: the one source of every threshold the alert rules and the
 * dashboard show.
 *
 * (A shared loader for the whole repository may replace this; until then the monitoring tools
 * validate the file themselves rather than trust its shape.)
 *
 * @module
 */
import { z } from "zod";
import { repoRoot } from "../local/paths.ts";
import { parseConfigJson } from "../_cli/config_json.ts";

const level = z.number().finite().nonnegative().nullable();

/** One service-level metric: its unit, which direction is better, and its levels. */
export const slaMetricSchema = z.object({
  description: z.string().min(1),
  /** `x`: a factor (one path's figure divided by another's). */
  unit: z.enum(["ratio", "ms", "1/s", "MB", "x"]),
  better: z.enum(["lower", "higher"]),
  target: level,
  warning: level,
  critical: level,
  rollback: level,
});

/** The whole file. */
export const slaSchema = z.object({
  description: z.string().optional(),
  metrics: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), slaMetricSchema),
  analysis: z.object({
    description: z.string().optional(),
    interval: z.string().regex(/^\d+(ms|s|m|h)$/),
    threshold: z.number().int().positive(),
    min_requests: z.number().int().nonnegative(),
  }),
}).superRefine((sla, ctx) => {
  for (const [key, m] of Object.entries(sla.metrics)) {
    if (m.unit === "ratio") {
      for (const name of ["target", "warning", "critical", "rollback"] as const) {
        const value = m[name];
        if (value !== null && value > 1) {
          ctx.addIssue({
            code: "custom",
            path: ["metrics", key, name],
            message: `a ratio must be within 0..1, received ${value}`,
          });
        }
      }
    }
  }
});

/** A validated SLA file. */
export type SlaConfig = z.infer<typeof slaSchema>;
/** One validated SLA metric. */
export type SlaMetric = z.infer<typeof slaMetricSchema>;

/** Where the SLA file lives. */
export const slaPath = `${repoRoot}/config/sla.json`;

/**
 * Parses and validates SLA JSON text.
 *
 * @throws {ConfigError} naming the file and the first invalid field.
 */
export function parseSla(text: string, source = slaPath): SlaConfig {
  return parseConfigJson(slaSchema, text, source);
}

/** Reads {@link slaPath} (or `path`). @throws {Error} when missing or invalid. */
export async function readSlaConfig(path = slaPath): Promise<SlaConfig> {
  return parseSla(await Deno.readTextFile(path), path);
}
