/**
 * What every benchmark report records about its run, and how a target is judged: the parts
 * bench:search ({@link ./search_report.ts}) and bench:kms ({@link ./kms_report.ts}) share, so
 * the readiness report reads them the same way.
 *
 * @module
 */
import { z } from "zod";
import { machineSchema } from "../load/machine.ts";

/** zod schema of a benchmark run's `meta`: when, where and with which command. */
export const benchRunSchema = z.object({
  /** When the run started (ISO 8601). */
  startedAt: z.iso.datetime({ offset: true }),
  /** When it finished (ISO 8601). */
  endedAt: z.iso.datetime({ offset: true }),
  /** The machine it ran on (scripts/load/machine.ts). */
  machine: machineSchema,
  /** The command line that produced the report, e.g. `deno task bench:kms --operations 200`. */
  command: z.string().min(1),
});

/** A benchmark run's `meta`. */
export type BenchRun = z.output<typeof benchRunSchema>;

/** zod schema of one target a benchmark judges itself against. */
export const benchTargetSchema = z.object({
  /** What is measured, e.g. `peer ÷ optimized queries at N=50`. */
  name: z.string().min(1),
  /** The goal, e.g. `≥ 5×`. */
  goal: z.string().min(1),
  /** The measured value with what it was computed from. */
  measured: z.string(),
  met: z.boolean(),
});

/** One target with its outcome. */
export type BenchTarget = z.output<typeof benchTargetSchema>;

/**
 * The command line of a benchmark as a user would type it.
 *
 * @example
 * ```ts
 * benchCommand("bench:search", ["--levels", "1,5"]); // "deno task bench:search --levels 1,5"
 * ```
 */
export function benchCommand(task: string, args: readonly string[]): string {
  const quote = (
    arg: string,
  ) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ["deno", "task", task, ...args.map(quote)].join(" ");
}

/** A finite number or null: JSON has no NaN or Infinity, and a report must not fake a zero. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
