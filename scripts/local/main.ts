/**
 * `deno task stack`: brings the local stack up, prints what `supabase status` prints, and serves
 * until Ctrl-C.
 *
 * @module
 */
import { z } from "zod";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { EmbeddedPostgresError } from "./embedded_postgres.ts";
import { maxIsolates } from "./function_isolates.ts";
import { clearStaleStackState, StateInUseError } from "./leftovers.ts";
import { killGraceMs } from "./child_process.ts";
import { onInterrupt } from "./interrupts.ts";
import { MigrationError } from "./migrate.ts";
import { localStateDir } from "./paths.ts";
import { PortInUseError } from "./ports.ts";
import {
  childStopMs,
  postgresStopMs,
  type Stack,
  type StackOptions,
  StackStartAborted,
  startStack,
} from "./stack.ts";

const usage = `Usage: deno task stack [options]

Starts the local Supabase stack: embedded Postgres 17 (or DATABASE_URL), migrations pushed by the
Supabase CLI, a small seed, and every function behind the gateway.

Options:
  --port N           gateway port (env STACK_PORT)            default 54321
  --db-port N        embedded Postgres port (env STACK_DB_PORT) default 54322
  --seed-flights N   flights to seed into an empty database     default 5000
  --isolates K       isolates of flight-search, round robin     default 1
                     (env FLIGHT_SEARCH_ISOLATES; 1..${maxIsolates})
  --once             exit once the stack is ready (smoke check)
  -h, --help         show this help

Environment: DATABASE_URL (or SUPABASE_DB_URL) uses that Postgres instead of the embedded one.`;

const port = z.coerce.number().int().min(1).max(65535);
const optionsSchema = z.object({
  port: port.default(54321),
  dbPort: port.default(54322),
  seedFlights: z.coerce.number().int().min(0).max(5_000_000).default(5000),
  isolates: z.coerce.number().int().min(1).max(maxIsolates).default(1),
  once: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Parsed command line of the stack. */
export type StackCliOptions = z.output<typeof optionsSchema>;

/**
 * Parses `args` (and STACK_* env defaults).
 *
 * @throws {UsageError} naming the option at fault.
 */
export function parseStackArgs(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): StackCliOptions {
  const { values } = parseCommandLine(args, {
    strings: ["port", "db-port", "seed-flights", "isolates"],
    switches: ["once"],
  });
  return validateOptions(optionsSchema, {
    ...camelKeys(values),
    port: values.port ?? env.STACK_PORT,
    dbPort: values["db-port"] ?? env.STACK_DB_PORT,
    isolates: values.isolates ?? env.FLIGHT_SEARCH_ISOLATES,
  }, { isolates: "--isolates (or FLIGHT_SEARCH_ISOLATES)" });
}

/** Lines like `supabase status` prints. */
export function statusLines(stack: Stack): string[] {
  const rows: Array<[string, string]> = [
    ["API URL", stack.url],
    ["Functions URL", stack.functionsUrl],
    ["DB URL", stack.dbUrl],
    ["JWT secret", stack.jwtSecret],
    ["anon key", stack.anonKey],
    ["service_role key", stack.serviceRoleKey],
    ["metrics token", stack.metricsBearerToken],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padStart(width)}: ${v}`);
}

/**
 * The file other tools read to find a running stack (removed on stop): its URLs and keys, the
 * stack's own `pid`, and `children` — the pids of Postgres, Redis and each function isolate,
 * rewritten after every restart — so a fault test or bench can SIGSTOP/SIGKILL the real process.
 */
export const stackStateFile = `${localStateDir}/stack.json`;

/** Writes {@link stackStateFile} for `stack` as it is now. */
export function writeStackState(stack: Stack, startedAt: string): void {
  Deno.mkdirSync(localStateDir, { recursive: true });
  const state = {
    pid: Deno.pid,
    url: stack.url,
    functionsUrl: stack.functionsUrl,
    dbUrl: stack.dbUrl,
    anonKey: stack.anonKey,
    serviceRoleKey: stack.serviceRoleKey,
    metricsBearerToken: stack.metricsBearerToken,
    functions: stack.functions,
    children: stack.children(),
    restarts: stack.restarts(),
    startedAt,
  };
  // Written whole then renamed, so a reader never sees half a file.
  const temp = `${stackStateFile}.tmp`;
  Deno.writeTextFileSync(temp, JSON.stringify(state, null, 2));
  Deno.renameSync(temp, stackStateFile);
}

/**
 * The most a graceful stop may take after Ctrl-C (11 s): the children's own bounds (isolates
 * {@link childStopMs}, then Redis and Postgres {@link postgresStopMs}, SIGKILL
 * {@link killGraceMs} after that) and a moment for a rollback. Past it, every child is killed at
 * once and the process exits.
 */
export const stopBoundMs = childStopMs + postgresStopMs + killGraceMs + 3_000;

/**
 * Arms the bound of a graceful stop: after {@link stopBoundMs} every child of `stack()` is killed
 * and the process exits with `code`. (Children not yet handed over, during start-up, die with
 * the process through their lifeline.)
 */
export function armStopBound(stack: () => Stack | undefined, code: number): void {
  const timer = setTimeout(() => {
    console.error(`still stopping after ${stopBoundMs / 1000} s: stopping every process at once`);
    stack()?.killSync();
    Deno.exit(code);
  }, stopBoundMs);
  Deno.unrefTimer(timer);
}

/**
 * On Ctrl-C (SIGINT) or SIGTERM: stops `stack` within {@link stopBoundMs}, removes the state
 * file and exits 0; a second signal kills every child at once and exits 130.
 *
 * @returns A function that removes the listeners again.
 */
export function stopOnSignal(stack: Stack): () => void {
  return onInterrupt({
    async first() {
      armStopBound(() => stack, 130);
      console.log("\nStopping the local stack… (Ctrl-C again to stop at once)");
      await stack.stop();
      await Deno.remove(stackStateFile).catch(() => {});
      console.log("Stopped.");
      Deno.exit(0);
    },
    again() {
      console.error("interrupted again: stopping at once");
      stack.killSync();
      Deno.exit(130);
    },
  });
}

/**
 * Starts the stack for a command line, wiring Ctrl-C (unless `handleSignals` is false: the
 * caller then handles it, see {@link stopOnSignal}) and the state file. Resolves with the
 * stack, or exits the process with a clear message for the errors a person can fix.
 */
export async function startFromCli(
  options: StackCliOptions,
  extra: Partial<StackOptions> = {},
  { handleSignals = true }: { handleSignals?: boolean } = {},
): Promise<Stack> {
  const databaseUrl = Deno.env.get("DATABASE_URL") ?? Deno.env.get("SUPABASE_DB_URL");
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = (line: string) => console.log(`• ${line}`);
  let stack: Stack | undefined;
  try {
    // A stack.json left by a stack that crashed: say so, stop what still runs of it.
    await clearStaleStackState(stackStateFile, { log });
    stack = await startStack({
      databaseUrl,
      port: options.port,
      dbPort: options.dbPort,
      seedFlights: options.seedFlights,
      isolates: { "flight-search": options.isolates },
      log,
      onFunctionLog: (name, line) => console.log(`  [${name}] ${line}`),
      // After a restart the pids in stack.json follow.
      onChildrenChange: () => {
        if (stack) writeStackState(stack, startedAt);
      },
      ...extra,
    });
  } catch (error) {
    if (
      error instanceof PortInUseError || error instanceof MigrationError ||
      error instanceof EmbeddedPostgresError || error instanceof StateInUseError
    ) {
      console.error(`error: ${error.message}`);
      Deno.exit(3);
    }
    if (error instanceof StackStartAborted) {
      console.log("Stopped.");
      Deno.exit(130);
    }
    throw error;
  }
  writeStackState(stack, startedAt);
  if (handleSignals) stopOnSignal(stack);
  const running = stack;
  globalThis.addEventListener("unload", () => {
    running.killSync();
    try {
      Deno.removeSync(stackStateFile);
    } catch {
      // already removed
    }
  });
  console.log(`\nLocal stack ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  for (const line of statusLines(stack)) console.log(line);
  console.log(
    `\nTry: curl -H "Authorization: Bearer ${
      stack.anonKey.slice(0, 16)
    }…" ${stack.functionsUrl}/health`,
  );
  return stack;
}

/**
 * `deno task stack`: the stack up, then serving until Ctrl-C (with `--once`, down again at once);
 * resolves with the exit code, or undefined while it serves.
 */
async function main(args: string[]): Promise<number | undefined> {
  const options = parseStackArgs(args);
  if (options.help) return showUsage(usage);
  // The servers run in process groups of their own (a terminal's Ctrl-C reaches only this process,
  // which stops them in order); Ctrl-C while they come up stops what has started.
  const starting = new AbortController();
  const removeInterruptHandlers = onInterrupt({
    first() {
      console.error("\ninterrupted: stopping what has started (Ctrl-C again to quit at once)");
      starting.abort("Ctrl-C (SIGINT)");
      armStopBound(() => undefined, 130);
    },
    again: () => Deno.exit(130), // the lifelines stop the rest
  });
  const stack = await startFromCli(options, { detached: true, signal: starting.signal }, {
    handleSignals: false,
  });
  removeInterruptHandlers();
  if (options.once || starting.signal.aborted) {
    await stack.stop();
    await Deno.remove(stackStateFile).catch(() => {});
    return starting.signal.aborted ? 130 : 0;
  }
  stopOnSignal(stack);
  console.log("Serving until Ctrl-C.");
  return undefined;
}

if (import.meta.main) await runMain(main, { usage });
