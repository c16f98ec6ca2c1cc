/**
 * The one place where an entry point's error becomes an exit code: a command's `main(args)`
 * resolves with its exit code, and {@link runCommand} turns what it throws into one — a
 * {@link UsageError} is printed with the usage (exit 2), a `ConfigError` (2) or a
 * {@link PreconditionError} (3) with its message, never with a stack trace.
 *
 * @module
 */
import { exitCodeOf, isCommandError, UsageError } from "./errors.ts";

/**
 * A command line's body: resolves with the process exit code, or with undefined when the command
 * keeps serving (its servers hold the process until a signal handler ends it).
 */
export type Main<R extends number | undefined = number | undefined> = (
  args: string[],
) => Promise<R> | R;

/** How {@link runCommand} reports. */
export interface RunOptions {
  /** Printed after the message of a {@link UsageError}. */
  usage?: string;
  /**
   * The exit code of any other error, printed as `error: <message>`. Without it such an error
   * propagates (a bug: Deno prints it with its stack and exits 1).
   */
  failureCode?: number;
  /** Where errors go. @default console.error */
  printError?: (text: string) => void;
}

/**
 * Runs `main(args)` and resolves with its exit code, or with the code of the error it threw.
 *
 * @example
 * ```ts
 * const code = await runCommand(main, ["--port", "x"], { usage }); // 2, "error: --port: …" + usage
 * ```
 */
export async function runCommand<R extends number | undefined>(
  main: Main<R>,
  args: readonly string[],
  { usage, failureCode, printError = (text) => console.error(text) }: RunOptions = {},
): Promise<R | number> {
  try {
    return await main([...args]);
  } catch (error) {
    if (!isCommandError(error) && failureCode === undefined) throw error;
    const message = error instanceof Error ? error.message : String(error);
    printError(
      `error: ${message}${error instanceof UsageError && usage ? `\n\n${usage}` : ""}`,
    );
    return isCommandError(error) ? exitCodeOf(error) : failureCode!;
  }
}

/**
 * Runs `main` with the process's arguments and exits with its code (see {@link runCommand}); a
 * command that keeps serving (undefined) leaves the process running.
 *
 * @example
 * ```ts
 * if (import.meta.main) await runMain(main, { usage });
 * ```
 */
export async function runMain(main: Main, options: RunOptions = {}): Promise<void> {
  const code = await runCommand(main, Deno.args, options);
  if (code !== undefined) Deno.exit(code);
}

/**
 * Prints `usage` (asked for with `-h`/`--help`) and resolves with exit code 0.
 *
 * @example
 * ```ts
 * if (cli.help) return showUsage(usage);
 * ```
 */
export function showUsage(usage: string, print: (text: string) => void = console.log): 0 {
  print(usage);
  return 0;
}
