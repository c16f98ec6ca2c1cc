/**
 * The rollout command line: parsed and validated by `scripts/_cli/args.ts` (every option at
 * most once) and turned into {@link RolloutOptions} before anything touches a database, a file
 * or the network.
 *
 * @module
 */
import { z } from "zod";
import { type OptionList, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { parseDuration } from "../sla/sla.ts";
import { UsageError } from "../_cli/errors.ts";
import { type EnvironmentName, environmentNames } from "./environments.ts";

/** What a rollout run was asked to do. */
export interface RolloutOptions {
  environment: EnvironmentName;
  /** Traffic percentages to promote through, strictly ascending; the last is the target. */
  steps: number[];
  /** Print every command and SQL statement instead of running writes. */
  dryRun: boolean;
  /** Skip phase 3 (performance test). */
  skipTests: boolean;
  /** Continue when the performance test fails. */
  force: boolean;
  /** Monitoring window per step; the environment's default when absent. */
  monitorMs?: number;
  /** Time between analysis checks; the environment's default when absent. */
  intervalMs?: number;
  /** Consecutive failed checks that trigger a rollback; config/sla.json's when absent. */
  threshold?: number;
  /** Who is deploying, recorded in the flag history and the deployment row. */
  actor?: string;
}

/** The result of parsing: run a rollout, or print the help. */
export type ParsedRolloutCommand = { kind: "help" } | { kind: "rollout"; options: RolloutOptions };

const optionList: OptionList = {
  strings: ["environment", "traffic", "steps", "monitor", "interval", "threshold", "actor"],
  switches: ["dry-run", "skip-tests", "force"],
  short: { environment: "e", traffic: "t", "dry-run": "d", "skip-tests": "s", force: "f" },
};

/** The rollout's usage text. */
export const rolloutUsage =
  `Usage: scripts/deploy-performance-optimizations.sh -e <environment> -t <percent> [options]
       scripts/deploy-performance-optimizations.sh flags <get|set|disable|sync> ... (see flags --help)

Rolls the optimized flight-search path out in five phases: database, functions (and the traffic
flag), performance test, metric-gated monitoring, completion (promote or roll back).

Options:
  -e, --environment <name>  local | staging | production (config/environments.json)
  -t, --traffic <1..100>    target share of traffic on the optimized path
      --steps <list>        staged promotion, e.g. 10,25,50,100 (ascending; the last step is the
                            target, and equals -t when both are given)
  -d, --dry-run             print every command and SQL statement; change nothing
  -s, --skip-tests          skip phase 3 (performance test)
  -f, --force               continue when the performance test fails
      --monitor <duration>  monitoring window per step, e.g. 10m (default: per environment)
      --interval <duration> time between analysis checks, e.g. 30s (default: per environment)
      --threshold <n>       consecutive failed checks before rollback (default: config/sla.json)
      --actor <name>        who is deploying (default: $USER@hostname)
  -h, --help                show this help

Exit codes: 0 promoted, 1 rolled back, 2 usage or configuration error, 3 precondition failed.`;

function durationField(option: string) {
  return z.string().transform((text, ctx) => {
    try {
      const ms = parseDuration(text);
      if (ms < 1000) throw new RangeError(`${option} must be at least 1s, received "${text}"`);
      if (ms > 24 * 3600_000) {
        throw new RangeError(`${option} must be at most 24h, received "${text}"`);
      }
      return ms;
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}

function percent(option: string) {
  return z.string().regex(/^\d{1,3}$/, `${option} expects an integer 1..100`)
    .transform(Number)
    .pipe(z.number().int().min(1, `${option} must be 1..100`).max(100, `${option} must be 1..100`));
}

const rawSchema = z.object({
  environment: z.enum(environmentNames, {
    error: (issue) =>
      issue.input === undefined
        ? "--environment is required (local, staging or production)"
        : `--environment must be one of ${environmentNames.join(", ")}, received "${issue.input}"`,
  }),
  traffic: percent("--traffic").optional(),
  steps: z.string().regex(
    /^\d{1,3}(,\d{1,3})*$/,
    "--steps expects a comma-separated list like 10,25,50,100",
  )
    .transform((text) => text.split(",").map(Number))
    .pipe(
      z.array(z.number().int().min(1, "--steps must be 1..100").max(100, "--steps must be 1..100"))
        .max(20, "--steps takes at most 20 steps")
        .refine(
          (s) => s.every((v, i) => i === 0 || v > s[i - 1]!),
          "--steps must be strictly ascending",
        ),
    )
    .optional(),
  "dry-run": z.boolean().default(false),
  "skip-tests": z.boolean().default(false),
  force: z.boolean().default(false),
  monitor: durationField("--monitor").optional(),
  interval: durationField("--interval").optional(),
  threshold: z.string().regex(/^\d{1,3}$/, "--threshold expects an integer 1..100").transform(
    Number,
  )
    .pipe(
      z.number().int().min(1, "--threshold must be 1..100").max(100, "--threshold must be 1..100"),
    )
    .optional(),
  actor: z.string().regex(/^[^\p{Cc}]{1,200}$/u, "--actor expects 1..200 printable characters")
    .optional(),
  help: z.boolean().optional(),
}).strict();

/**
 * Parses the rollout command line.
 *
 * @example
 * ```ts
 * const parsed = parseRolloutArgs(["-e", "staging", "-t", "25"]);
 * // { kind: "rollout", options: { environment: "staging", steps: [25], ... } }
 * ```
 * @throws {UsageError} naming the option at fault, for anything invalid.
 */
export function parseRolloutArgs(args: readonly string[]): ParsedRolloutCommand {
  const { values, positionals } = parseCommandLine(args, optionList, {
    positionals: true,
    once: true,
  });
  if (values.help) return { kind: "help" };
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  const raw = validateOptions(rawSchema, values);
  let steps: number[];
  if (raw.steps && raw.traffic !== undefined) {
    if (raw.steps.at(-1) !== raw.traffic) {
      throw new UsageError(
        `--steps must end at the target traffic (-t ${raw.traffic}), received ${
          raw.steps.join(",")
        }`,
        "--steps",
      );
    }
    steps = raw.steps;
  } else if (raw.steps) {
    steps = raw.steps;
  } else if (raw.traffic !== undefined) {
    steps = [raw.traffic];
  } else {
    throw new UsageError("give the target traffic with -t <1..100> (or --steps)", "--traffic");
  }
  if (raw.monitor !== undefined && raw.interval !== undefined && raw.interval > raw.monitor) {
    throw new UsageError("--interval must not be longer than --monitor", "--interval");
  }
  const options: RolloutOptions = {
    environment: raw.environment,
    steps,
    dryRun: raw["dry-run"],
    skipTests: raw["skip-tests"],
    force: raw.force,
  };
  if (raw.monitor !== undefined) options.monitorMs = raw.monitor;
  if (raw.interval !== undefined) options.intervalMs = raw.interval;
  if (raw.threshold !== undefined) options.threshold = raw.threshold;
  if (raw.actor !== undefined) options.actor = raw.actor;
  return { kind: "rollout", options };
}
