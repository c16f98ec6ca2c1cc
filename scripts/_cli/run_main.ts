/**
 * The one place where an entry point's error becomes an exit code: a command's `main(args)`
 * resolves with its exit code, and {@link runCommand} turns what it throws into one — a
 * {@link UsageError} is printed with the usage (exit 2), a `ConfigError` (2) or a
 * {@link PreconditionError} (3) with its message, never with a stack trace.
 *
 * @module
 */
import { exitCodeOf, isCommandError, UsageError } from "./errors.ts";

/** A command line's body: resolves with the process exit code. */
export type Main = (args: string[]) => Promise<number> | number;

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
export async function runCommand(
  main: Main,
  args: readonly string[],
  { usage, failureCode, printError = (text) => console.error(text) }: RunOptions = {},
): Promise<number> {
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
 * Runs `main` with the process's arguments and exits with its code (see {@link runCommand}).
 *
 * @example
 * ```ts
 * if (import.meta.main) await runMain(main, { usage });
 * ```
 */
export async function runMain(main: Main, options: RunOptions = {}): Promise<never> {
  Deno.exit(await runCommand(main, Deno.args, options));
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
