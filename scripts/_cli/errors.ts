/**
 * The failure kinds of the command lines and the exit code each maps to.
 *
 * Exit codes are the rollout's contract with scripts and CI, and every other command line keeps
 * the part of it that applies: 0 promoted (done), 1 rolled back, 2 usage or configuration error
 * (nothing was done), 3 precondition failed (nothing was changed that needs undoing: lock held,
 * migration or deploy failed before the flag moved, unknown flag...).
 *
 * Configuration problems (config files, environment variables) throw the one `ConfigError` of
 * `supabase/functions/_shared/env.ts`; {@link exitCodeOf} maps it to 2.
 *
 * @module
 */
import { ConfigError } from "../../supabase/functions/_shared/env.ts";

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

/** Something the deploy needs is not true (lock free, migrations applied, CLI succeeded): exit 3. */
export class PreconditionError extends Error {
  override name = "PreconditionError";
  readonly exitCode: ExitCode = ExitCode.precondition;
}

/**
 * The exit code for an error that ended a command: 2 for a {@link UsageError} or a `ConfigError`,
 * 3 for a {@link PreconditionError}; unknown errors count as preconditions.
 *
 * @example
 * ```ts
 * exitCodeOf(new UsageError("--traffic must be 1..100", "--traffic")); // 2
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof PreconditionError) return error.exitCode;
  if (error instanceof ConfigError) return ExitCode.usage;
  return ExitCode.precondition;
}

/** Whether `error` is one {@link exitCodeOf} knows: a usage, configuration or precondition error. */
export function isCommandError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof PreconditionError ||
    error instanceof ConfigError;
}
