/**
 * config/traffic-routing.json: the flags as a file a person can edit. Manual rollback is one
 * edit (`{"flight_search_optimization":{"enabled":false,"traffic_percentage":0}}`) followed by
 * `flags sync --from-file`.
 *
 * The table is the source of truth the functions read; the file is an input (`--from-file`) or a
 * snapshot (`--to-file`) of one environment's table. The rollout itself never writes the file.
 *
 * @module
 */
import { z } from "zod";
import { parseConfigJson } from "../_cli/config_json.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import type { FlagState } from "../../supabase/functions/_shared/rollout_flag.ts";
import { flagKeySchema } from "./flag_store.ts";

const entrySchema = z.object({
  enabled: z.boolean(),
  traffic_percentage: z.number().int().min(0).max(100),
  reason: z.string().min(1).max(500).optional(),
  updated_by: z.string().min(1).max(200).optional(),
}).strict();

const fileSchema = z.record(flagKeySchema, entrySchema);

/** One flag as the file holds it. */
export type TrafficRoutingEntry = z.infer<typeof entrySchema>;
/** The whole file: flag key → entry. */
export type TrafficRouting = Record<string, TrafficRoutingEntry>;

/**
 * Parses the file's text.
 *
 * @throws {ConfigError} naming `path` and the first invalid field.
 */
export function parseTrafficRouting(text: string, path: string): TrafficRouting {
  return parseConfigJson(fileSchema, text, path);
}

/** Reads and parses the file. @throws {ConfigError} */
export async function readTrafficRouting(path: string): Promise<TrafficRouting> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseTrafficRouting(text, path);
}

/** The file's canonical text for `flags`: keys sorted, two-space indent, trailing newline. */
export function formatTrafficRouting(flags: readonly FlagState[]): string {
  const entries: TrafficRouting = {};
  for (const flag of [...flags].sort((a, b) => a.flagKey.localeCompare(b.flagKey))) {
    entries[flag.flagKey] = {
      enabled: flag.enabled,
      traffic_percentage: flag.trafficPercentage,
      reason: flag.reason,
      updated_by: flag.updatedBy,
    };
  }
  return `${JSON.stringify(entries, null, 2)}\n`;
}

/** How one flag differs between two sides. */
export interface FlagDifference {
  flagKey: string;
  /** `change`: both sides have it; `only_in_source` / `only_in_target`: one side lacks it. */
  kind: "change" | "only_in_source" | "only_in_target";
  from?: { enabled: boolean; trafficPercentage: number };
  to?: { enabled: boolean; trafficPercentage: number };
}

type Side = Record<string, { enabled: boolean; trafficPercentage: number }>;

/** Both sides keyed by flag, as compared by {@link diffFlags}. */
export function tableSide(flags: readonly FlagState[]): Side {
  return Object.fromEntries(
    flags.map((f) => [f.flagKey, { enabled: f.enabled, trafficPercentage: f.trafficPercentage }]),
  );
}

/** The file keyed by flag, as compared by {@link diffFlags}. */
export function fileSide(file: TrafficRouting): Side {
  return Object.fromEntries(
    Object.entries(file).map((
      [key, e],
    ) => [key, { enabled: e.enabled, trafficPercentage: e.traffic_percentage }]),
  );
}

/**
 * What would change in `target` to make it match `source`, compared on enabled and
 * traffic_percentage (reason and updated_by are metadata of the change, not state).
 */
export function diffFlags(source: Side, target: Side): FlagDifference[] {
  const keys = [...new Set([...Object.keys(source), ...Object.keys(target)])].sort();
  const out: FlagDifference[] = [];
  for (const flagKey of keys) {
    const want = source[flagKey];
    const have = target[flagKey];
    if (want && !have) out.push({ flagKey, kind: "only_in_source", to: want });
    else if (!want && have) out.push({ flagKey, kind: "only_in_target", from: have });
    else if (
      want && have &&
      (want.enabled !== have.enabled || want.trafficPercentage !== have.trafficPercentage)
    ) {
      out.push({ flagKey, kind: "change", from: have, to: want });
    }
  }
  return out;
}

const show = (s: { enabled: boolean; trafficPercentage: number }) =>
  `${s.enabled ? "enabled" : "disabled"} ${s.trafficPercentage}%`;

/** One line per difference, `-`/`+` like a diff, naming the sides. */
export function formatDiff(
  diff: readonly FlagDifference[],
  sourceName: string,
  targetName: string,
): string[] {
  return diff.map((d) => {
    switch (d.kind) {
      case "change":
        return `~ ${d.flagKey}: ${targetName} ${show(d.from!)} → ${
          show(d.to!)
        } (from ${sourceName})`;
      case "only_in_source":
        return `+ ${d.flagKey}: ${show(d.to!)} is in ${sourceName} only`;
      case "only_in_target":
        return `- ${d.flagKey}: ${show(d.from!)} is in ${targetName} only`;
    }
  });
}
