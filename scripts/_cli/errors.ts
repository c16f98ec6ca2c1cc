/**
 * The rollout CLI's failure kinds and the exit code each maps to.
 *
 * Exit codes are the CLI's contract with scripts and CI: 0 promoted, 1 rolled back, 2 usage or
 * configuration error (nothing was done), 3 precondition failed (nothing was changed that needs
 * undoing: lock held, migration or deploy failed before the flag moved, unknown flag...).
 *
 * @module
 */
import type { z } from "zod";

/** Process exit codes of the rollout CLI. */
export const ExitCode = {
  /** Every step promoted (or a flags command succeeded). */
  promoted: 0,
  /** The deploy rolled back (analysis failed, smoke or load test failed, interrupted). */
  rolledBack: 1,
  /** Invalid option or configuration; nothing was done. */
  usage: 2,
  /** A precondition failed before traffic moved; nothing needs undoing. */
  precondition: 3,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** An invalid command line: the CLI prints the message and the usage, then exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly exitCode: ExitCode = ExitCode.usage;
  /**
   * @param message What is wrong, naming the option and what was expected.
   * @param option The option at fault (e.g. `--traffic`), when there is one.
   */
  constructor(message: string, readonly option?: string) {
    super(message);
  }
}

/** Invalid or incomplete configuration (config files, environment variables): exit 2. */
export class ConfigurationError extends Error {
  override name = "ConfigurationError";
  readonly exitCode: ExitCode = ExitCode.usage;
}

/**
 * Parses a JSON configuration file's text with `schema`.
 *
 * @throws {ConfigurationError} naming `path` and, for a schema mismatch, the first invalid field.
 */
export function parseConfigJson<S extends z.ZodType>(
  schema: S,
  text: string,
  path: string,
): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(
      `${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/** Something the deploy needs is not true (lock free, migrations applied, CLI succeeded): exit 3. */
export class PreconditionError extends Error {
  override name = "PreconditionError";
  readonly exitCode: ExitCode = ExitCode.precondition;
}

/** The exit code for an error that ended a command; unknown errors count as preconditions. */
export function exitCodeOf(error: unknown): ExitCode {
  if (
    error instanceof UsageError || error instanceof ConfigurationError ||
    error instanceof PreconditionError
  ) {
    return error.exitCode;
  }
  return ExitCode.precondition;
}
