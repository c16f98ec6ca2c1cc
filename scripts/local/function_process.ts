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

/** A running function isolate. */
export interface FunctionProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
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

async function pump(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) onLine(line);
  }
  if (buffered) onLine(buffered);
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
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: repoRoot,
    detached,
    env: { ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 50) tail.shift();
    onLog(spec.name, line);
  };
  const pumps = Promise.all([pump(child.stdout, onLine), pump(child.stderr, onLine)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const exitedEarly = status.then((s) => {
    throw new Error(`function ${spec.name} exited with code ${s.code} before listening`);
  });
  try {
    await Promise.race([waitForPort(port, { timeoutMs: startTimeoutMs }), exitedEarly]);
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await pumps.catch(() => {});
    throw new Error(`${(error as Error).message}\n${tail.join("\n")}`);
  }
  exitedEarly.catch(() => {});

  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    port,
    pid: child.pid,
    alive: () => !exited,
    logTail: () => [...tail],
    stop(timeoutMs = 5_000) {
      stopping ??= (async () => {
        if (!exited) child.kill("SIGTERM");
        const timer = setTimeout(() => {
          if (!exited) child.kill("SIGKILL");
        }, timeoutMs);
        try {
          await status;
          await pumps.catch(() => {});
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
    killSync() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
}
