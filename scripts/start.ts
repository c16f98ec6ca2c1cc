/**
 * `npm start`: the main job on a fresh machine. The local stack comes up, the optimized path is
 * rolled out on it (`-e local`, staged, metric-gated, with synthetic traffic), the report is
 * printed with the path of the HTML report, and the stack keeps serving until Ctrl-C.
 *
 * Ctrl-C during the rollout rolls the flag back first, then stops everything (exit 130) within
 * `stopBoundMs` (main.ts), a second Ctrl-C at once; during start-up it stops what has started. The
 * stack's servers run in process groups of their own so that the terminal's Ctrl-C reaches only
 * this process, and the database is still there for the rollback. `--once` exits after the
 * rollout with its exit code (0 promoted, 1 rolled back, 3 precondition failed).
 *
 * @module
 */
import { maxIsolates } from "./local/function_isolates.ts";
import { runMain, showUsage } from "./_cli/run_main.ts";
import {
  armStopBound,
  parseStackArgs,
  stackStateFile,
  startFromCli,
  stopOnSignal,
} from "./local/main.ts";
import type { Stack } from "./local/stack.ts";
import { onInterrupt } from "./local/interrupts.ts";
import { localRolloutArgs, runLocalRollout } from "./rollout/local_rollout.ts";

const usage =
  `Usage: npm start [-- --once] [--port N] [--db-port N] [--seed-flights N] [--isolates K]

Starts the local Supabase stack (embedded Postgres 17, migrations, seed, every function behind
the gateway), rolls the optimized flight-search path out on it
(scripts/deploy-performance-optimizations.sh ${localRolloutArgs.join(" ")}),
prints the rollout report and the path of the HTML report, then serves until Ctrl-C.

Options:
  --once             exit after the rollout with its exit code (0 promoted, 1 rolled back)
  --port N           gateway port (env STACK_PORT)            default 54321
  --db-port N        embedded Postgres port (env STACK_DB_PORT) default 54322
  --seed-flights N   flights to seed into an empty database     default 5000
  --isolates K       isolates of flight-search, round robin     default 1
                     (env FLIGHT_SEARCH_ISOLATES; 1..${maxIsolates})
  -h, --help         show this help

Environment: DATABASE_URL (or SUPABASE_DB_URL) uses that Postgres instead of the embedded one;
STACK_STATE_DIR moves .local (Postgres data, KMS keys, stack.json); REPORTS_DIR moves reports/.

Ctrl-C during the rollout rolls the flag back, then stops everything.`;

/** Exit code after an interrupt, as shells report SIGINT. */
const interruptedExit = 130;

/** Stops the stack (when it is up) and resolves with `code`. */
async function stopStack(stack: Stack | undefined, code: number): Promise<number> {
  console.log("\nStopping the local stack…");
  await stack?.stop();
  await Deno.remove(stackStateFile).catch(() => {});
  console.log("Stopped.");
  return code;
}

/**
 * `npm start`: the stack, the local rollout on it, the report; resolves with the exit code
 * (`--once`, Ctrl-C), or undefined while the stack serves.
 */
async function main(args: string[]): Promise<number | undefined> {
  const options = parseStackArgs(args);
  if (options.help) return showUsage(usage);

  // From here on Ctrl-C is ours: the first aborts the rollout (which rolls back) and stops the
  // stack; a second one stops everything at once.
  const controller = new AbortController();
  /** The stack once it is up (the interrupt handler needs it). */
  const running: { stack?: Stack } = {};
  const removeInterruptHandlers = onInterrupt({
    first(signal) {
      console.error(
        running.stack
          ? "\ninterrupted: rolling back, then stopping (Ctrl-C again to quit at once)"
          : "\ninterrupted: stopping what has started (Ctrl-C again to quit at once)",
      );
      controller.abort(signal === "SIGINT" ? "Ctrl-C (SIGINT)" : signal);
      armStopBound(() => running.stack, interruptedExit);
    },
    again() {
      console.error("interrupted again: stopping at once");
      running.stack?.killSync();
      Deno.exit(interruptedExit);
    },
  });

  const stack = await startFromCli(options, { detached: true, signal: controller.signal }, {
    handleSignals: false,
  });
  running.stack = stack;
  if (controller.signal.aborted) return await stopStack(stack, interruptedExit);

  console.log(`\nRolling the optimized path out: ${localRolloutArgs.join(" ")}\n`);
  // REPORTS_DIR (scripts/local/paths.ts) is where every writer puts its reports.
  const { result } = await runLocalRollout(stack, { signal: controller.signal });
  if (controller.signal.aborted) return await stopStack(stack, interruptedExit);
  if (options.once) return await stopStack(stack, result.exitCode);

  removeInterruptHandlers();
  stopOnSignal(stack);
  console.log(
    `\nRollout ${result.status.replace("_", " ")} (exit code ${result.exitCode}). ` +
      `The stack keeps serving at ${stack.functionsUrl}/<name> until Ctrl-C.`,
  );
  return undefined;
}

if (import.meta.main) await runMain(main, { usage });
