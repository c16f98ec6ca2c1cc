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
import { type ServerProcess, serverProcess, spawnChild } from "./child_process.ts";

/** A running function isolate. */
export interface FunctionProcess extends ServerProcess {
  readonly name: string;
  readonly port: number;
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

  return { name: spec.name, port, ...serverProcess(child, 5_000) };
}
