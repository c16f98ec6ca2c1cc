/**
 * Entry of `scripts/deploy-performance-optimizations.sh`: `flags ...` edits the traffic flags,
 * anything else is a rollout. Exit codes: 0 promoted (or done), 1 rolled back, 2 usage or
 * configuration error, 3 precondition failed.
 *
 * @module
 */
import { ExitCode } from "../_cli/errors.ts";
import { runCommand, showUsage } from "../_cli/run_main.ts";
import { flagsUsage, parseFlagsArgs, runFlagsCommand } from "./flags_command.ts";
import { parseRolloutArgs, rolloutUsage } from "./options.ts";
import { defaultPerformanceTester } from "./load_testers.ts";
import { driverTraffic } from "./synthetic_traffic.ts";
import { type RolloutDeps, runRollout } from "./rollout.ts";
import { startStack } from "../local/stack.ts";

/** Asks on the terminal; undefined when stdin is not one (CI), so a sync needs --yes there. */
function terminalConfirm(): ((question: string) => boolean) | undefined {
  if (!Deno.stdin.isTerminal()) return undefined;
  return (question) => confirm(question);
}

/**
 * Runs the CLI with `args` and resolves with the exit code.
 *
 * @param deps Passed to the rollout (tests and `npm start` inject theirs).
 */
export async function main(args: readonly string[], deps: RolloutDeps = {}): Promise<number> {
  const print = deps.print ?? ((line: string) => console.log(line));
  const printError = deps.print ?? ((line: string) => console.error(line));
  if (args[0] === "flags") {
    return await runCommand(
      (flagsArgs) =>
        runFlagsCommand(parseFlagsArgs(flagsArgs), {
          print,
          ...(deps.env ? { env: deps.env } : {}),
          ...(deps.environmentsPath ? { environmentsPath: deps.environmentsPath } : {}),
          ...(deps.localStack ? { localStack: deps.localStack } : {}),
          confirm: terminalConfirm(),
        }),
      args.slice(1),
      { usage: flagsUsage, failureCode: ExitCode.precondition, printError },
    );
  }
  return await runCommand((rolloutArgs) => rollout(rolloutArgs, deps, print, printError), args, {
    usage: rolloutUsage,
    printError,
  });
}

/** A rollout from its command line: parsed, run with Ctrl-C rolling back, the exit code. */
async function rollout(
  args: string[],
  deps: RolloutDeps,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<number> {
  const parsed = parseRolloutArgs(args);
  if (parsed.kind === "help") return showUsage(rolloutUsage, print);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) Deno.exit(130);
    printError("interrupted: rolling back (Ctrl-C again to quit at once)");
    controller.abort("Ctrl-C (SIGINT)");
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const result = await runRollout(parsed.options, {
      performanceTest: defaultPerformanceTester(deps.env),
      traffic: driverTraffic(),
      // `-e local` with no `npm start` running: a stack for the duration of this command, its
      // servers out of the terminal's process group so that Ctrl-C leaves the database up for
      // the rollback (the rollout stops the stack when it ends; exit handlers kill it).
      startLocalStack: async () => {
        const stack = await startStack({
          detached: true,
          log: (line) => print(`    stack: ${line}`),
        });
        globalThis.addEventListener("unload", () => stack.killSync());
        return stack;
      },
      signal: controller.signal,
      ...deps,
    });
    // A configuration problem is a usage problem too: show how the command is meant to be run.
    if (result.status === "invalid" && result.exitCode === ExitCode.usage) {
      printError(`\n${rolloutUsage}`);
    }
    return result.exitCode;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
