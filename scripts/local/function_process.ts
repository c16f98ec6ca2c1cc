/**
 * One edge function served as Supabase serves it: its own isolate (a Deno process) whose module
 * state lives between requests and which handles many requests at once, on a loopback port via
 * `DENO_SERVE_ADDRESS`.
 *
 * @module
 */
import type { FunctionSpec } from "./functions_config.ts";
import { repoRoot, supabaseDir } from "./paths.ts";
import { freePort, waitForPort } from "./ports.ts";
import { spawnChild } from "./child_process.ts";

/** A running function isolate. */
export interface FunctionProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the isolate has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether stop() or killSync() was called: an exit after that is no crash. */
  stopRequested(): boolean;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The last lines it wrote (stdout and stderr), for diagnostics. */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
  killSync(): void;
}

/** Options for {@link startFunction}. */
export interface StartFunctionOptions {
  /** Environment of the isolate (the secrets a hosted function gets). */
  env: Record<string, string>;
  /** Called with each line the function logs, prefixed by nothing. @default ignore */
  onLog?: (name: string, line: string) => void;
  /** How long to wait for the port to open. @default 60000 (first run downloads npm packages) */
  startTimeoutMs?: number;
  /**
   * Run the isolate in a process group of its own, so a terminal's Ctrl-C reaches only the
   * process that started it, which decides when to stop it. @default false
   */
  detached?: boolean;
}

/**
 * Starts `spec` in its own Deno process and resolves once it listens.
 *
 * @throws {Error} with the function's output when it exits or does not listen in time.
 */
export async function startFunction(
  spec: FunctionSpec,
  options: StartFunctionOptions,
): Promise<FunctionProcess> {
  const { env, onLog = () => {}, startTimeoutMs = 60_000, detached = false } = options;
  const port = freePort();
  const envFile = `${supabaseDir}/functions/.env`;
  const args = ["run", "--allow-all", "--no-prompt", "--config", `${repoRoot}/deno.json`];
  try {
    await Deno.stat(envFile);
    args.push(`--env-file=${envFile}`);
  } catch {
    // no supabase/functions/.env: nothing to load
  }
  args.push(spec.entrypoint);
  // This process's own Deno binary, so isolates and tools always run the same version.
  const child = spawnChild({
    name: `function ${spec.name}`,
    command: Deno.execPath(),
    args,
    cwd: repoRoot,
    detached,
    env: { ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, NO_COLOR: "1" },
    onLine: (line) => onLog(spec.name, line),
  });
  const exitedEarly = child.exited.then((s) => {
    throw new Error(`function ${spec.name} exited with code ${s.code} before listening`);
  });
  try {
    await Promise.race([waitForPort(port, { timeoutMs: startTimeoutMs }), exitedEarly]);
  } catch (error) {
    child.killSync();
    await child.exited;
    throw new Error(`${(error as Error).message}\n${child.tail().join("\n")}`);
  }
  exitedEarly.catch(() => {});

  return {
    name: spec.name,
    port,
    pid: child.pid,
    exited: child.exited,
    alive: () => child.alive(),
    stopRequested: () => child.stopRequested(),
    logTail: () => child.tail(),
    stop: (timeoutMs = 5_000) => child.stop(timeoutMs),
    killSync: () => child.killSync(),
  };
}
