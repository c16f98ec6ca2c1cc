/**
 * Command-line options, parsed and validated the same way in every entry point: `node:util`
 * parseArgs in strict mode for the shape, a zod schema for the values, and every mistake a
 * {@link UsageError} whose message names the option at fault (the entry point then prints it with
 * its usage and exits 2, see `run_main.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { z } from "zod";
import { UsageError } from "./errors.ts";

/**
 * The options of a command line: those that take a value, the switches, and one-letter names.
 * Every command line also takes `-h, --help`.
 */
export interface OptionList {
  /** Options that take a value, e.g. `port` for `--port 54321`. */
  strings?: readonly string[];
  /** Options that take none, e.g. `once` for `--once`. */
  switches?: readonly string[];
  /** One-letter names, e.g. `{ environment: "e" }` for `-e`. */
  short?: Readonly<Record<string, string>>;
}

/** Parsed options (strings and booleans) and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** How strictly {@link parseCommandLine} reads. */
export interface ParseSettings {
  /** Accept positional arguments (a subcommand, a flag name). @default false */
  positionals?: boolean;
  /**
   * Refuse an option given twice (a repeated `-t 10 -t 50` is ambiguous) instead of taking the
   * last one. @default false
   */
  once?: boolean;
}

/**
 * Parses `args` strictly against `options`.
 *
 * @example
 * ```ts
 * const { values } = parseCommandLine(Deno.args, { strings: ["port"], switches: ["once"] });
 * ```
 * @throws {UsageError} on an unknown option, a missing or ambiguous value, a positional argument
 * where none is taken, or (with `once`) a repeated option.
 */
export function parseCommandLine(
  args: readonly string[],
  { strings = [], switches = [], short = {} }: OptionList,
  { positionals = false, once = false }: ParseSettings = {},
): ParsedArgs {
  const letters: Record<string, string> = { help: "h", ...short };
  const declare = (type: "string" | "boolean") => (name: string) =>
    [name, { type, multiple: true, ...(letters[name] ? { short: letters[name] } : {}) }] as const;
  const config = Object.fromEntries([
    ...strings.map(declare("string")),
    ...[...switches, "help"].map(declare("boolean")),
  ]);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: config,
      strict: true,
      allowPositionals: positionals,
    });
  } catch (error) {
    // parseArgs' messages already name the option and what was wrong with it.
    throw new UsageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  const values: ParsedArgs["values"] = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    const list = value as (string | boolean)[];
    if (once && list.length > 1) {
      throw new UsageError(`--${name} was given ${list.length} times`, `--${name}`);
    }
    values[name] = list.at(-1);
  }
  return { values, positionals: parsed.positionals };
}

/** The parsed values keyed like a schema: `--seed-flights` → `seedFlights`. */
export function camelKeys(values: ParsedArgs["values"]): Record<string, string | boolean> {
  const keyed: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) {
      keyed[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
    }
  }
  return keyed;
}

/**
 * The option a schema key stands for: `seedFlights` → `--seed-flights`, `dry-run` → `--dry-run`.
 */
export function optionName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `message`, prefixed with `option` unless it already names it. */
function naming(option: string, message: string): string {
  return message.includes(option) ? message : `${option}: ${message}`;
}

/**
 * Validates one option's value with `schema`.
 *
 * @example
 * ```ts
 * const traffic = validateOption(trafficSchema, values.traffic, "--traffic");
 * ```
 * @throws {UsageError} whose message names `option`.
 */
export function validateOption<T>(schema: z.ZodType<T>, value: unknown, option: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UsageError(naming(option, parsed.error.issues[0]?.message ?? "invalid"), option);
}

/**
 * Validates `input` (keyed like the schema) with `schema`.
 *
 * The first issue becomes the error: its message, prefixed with the option it concerns unless
 * the message already names it (`--traffic must be 1..100` stays as it is).
 *
 * @param names How to name a key's option when {@link optionName} would not say it all, e.g.
 * `{ isolates: "--isolates (or FLIGHT_SEARCH_ISOLATES)" }`.
 * @throws {UsageError} naming the option at fault.
 */
export function validateOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  names: Record<string, string> = {},
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path[0];
  const message = issue?.message ?? "invalid options";
  if (key === undefined) throw new UsageError(message);
  const option = names[String(key)] ?? optionName(String(key));
  throw new UsageError(naming(option, message), option);
}
