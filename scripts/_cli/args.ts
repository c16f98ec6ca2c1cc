/**
 * `node:util` parseArgs wrapped so every mistake becomes a {@link UsageError}, and every option
 * may be given at most once (a repeated `-t 10 -t 50` is ambiguous, not "last one wins").
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** An option declaration: a boolean switch or a string value, with an optional short name. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
}

/** Parsed options (strings and booleans, each at most once) and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` strictly against `options`.
 *
 * @throws {UsageError} on an unknown option, a missing or ambiguous value, or a repeated option.
 */
export function parseStrict(
  args: readonly string[],
  options: Record<string, OptionSpec>,
): ParsedArgs {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, { ...spec, multiple: true }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs' messages already name the option and what was wrong with it.
    throw new UsageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  const values: ParsedArgs["values"] = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    const list = value as (string | boolean)[];
    if (list.length > 1) {
      throw new UsageError(`--${name} was given ${list.length} times`, `--${name}`);
    }
    values[name] = list[0];
  }
  return { values, positionals: parsed.positionals };
}
