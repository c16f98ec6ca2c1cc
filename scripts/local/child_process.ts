/**
 * The one way the local stack starts a server process (Postgres, Redis, a function isolate,
 * PgBouncer): a child that never outlives this process, however this process dies, and one stop
 * logic — a polite signal, then a hard one after a bound ({@link ServerProcess} is what the
 * servers' owners see of it).
 *
 * Why a lifeline: a stack killed with SIGKILL (a closed terminal, a cancelled CI job) runs no
 * exit handler, so its children used to live on re-parented to init, holding ports and the data
 * folder. On Linux the child is started through util-linux's `setpriv --pdeathsig`, which asks the
 * kernel to send it a signal when its parent dies (`setpriv` execs, so the pid is the server's;
 * a parent killed within the millisecond before setpriv's request is the one gap, and the stack
 * is never killed that early: it waits for each server to answer).
 * Elsewhere a small `sh` watchdog holds the read end of a pipe whose write end only this process
 * has: when this process dies the pipe reaches EOF and the watchdog signals the child.
 *
 * @module
 */

/** How a child learns that this process died. */
export type Lifeline = "pdeathsig" | "watchdog" | "none";

/** Options for {@link spawnChild}. */
export interface SpawnChildOptions {
  /** Name used in messages, e.g. "Postgres" or "function health". */
  name: string;
  /** Executable path or name on PATH. */
  command: string;
  args?: string[];
  /** Extra environment (on top of this process's). */
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user/group (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  /** A process group of its own: a terminal's Ctrl-C then reaches only this process. */
  detached?: boolean;
  /** Called with every line the child writes to stdout or stderr; omitted: output discarded. */
  onLine?: (line: string) => void;
  /** Lines kept for {@link Child.tail}. @default 50 */
  tailLines?: number;
  /** The polite stop signal (Postgres: SIGINT, a fast shutdown). @default "SIGTERM" */
  stopSignal?: Deno.Signal;
  /** Sent when the polite stop takes too long, and by {@link Child.killSync}. @default "SIGKILL" */
  killSignal?: Deno.Signal;
  /** The signal the child gets when this process dies. @default stopSignal */
  deathSignal?: Deno.Signal;
  /** @default "pdeathsig" on Linux when `setpriv` exists, else "watchdog" */
  lifeline?: Lifeline;
}

/** A running (or exited) child. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the child has exited and its output is drained. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether it still runs. */
  alive(): boolean;
  /** Whether {@link stop} or {@link killSync} was called (an exit after that is expected). */
  stopRequested(): boolean;
  /** The last lines it wrote. */
  tail(): string[];
  /**
   * The stop signal, the kill signal after `timeoutMs`, SIGKILL {@link killGraceMs} later (a
   * stopped child is continued first); resolves once it exited. Idempotent.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Sends the kill signal now, synchronously (for exit handlers and a second Ctrl-C). */
  killSync(): void;
}

/** The absolute path of `name` on PATH (or `name` itself when it holds a slash), else undefined. */
export function findExecutable(
  name: string,
  path = Deno.env.get("PATH") ?? "",
): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : path.split(":").filter(Boolean).map((dir) => `${dir}/${name}`);
  for (const candidate of candidates) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** The lifeline used when none is asked for. */
export function defaultLifeline(): Lifeline {
  return Deno.build.os === "linux" && findExecutable("setpriv") ? "pdeathsig" : "watchdog";
}

/**
 * Whether process `pid` runs (a zombie counts as gone). Reads /proc on Linux; elsewhere asks
 * `kill -0`, which cannot tell a zombie apart.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      return state !== "Z" && state !== "X";
    } catch {
      return false;
    }
  }
  return new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).outputSync()
    .success;
}

/** The command line of `pid` (Linux only; "" when unknown), to tell our servers from others. */
export function processCommandLine(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** Sends `signal` to `pid`; false when it is already gone. */
export function signalProcess(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (Linux /proc; empty elsewhere). */
export function childPids(pid: number): number[] {
  if (Deno.build.os !== "linux") return [];
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * What the owner of a server started through {@link spawnChild} (Postgres, an isolate) sees of
 * it: its process, whether it runs, its last lines, and the one stop logic.
 */
export interface ServerProcess
  extends Pick<Child, "pid" | "exited" | "alive" | "stopRequested" | "stop" | "killSync"> {
  /** The last lines it wrote (stdout and stderr), for diagnostics. */
  logTail(): string[];
}

/**
 * The {@link ServerProcess} of `child`, whose `stop()` waits `stopTimeoutMs` by default.
 *
 * @example
 * ```ts
 * return { port, ...serverProcess(child, 5_000) };
 * ```
 */
export function serverProcess(child: Child, stopTimeoutMs: number): ServerProcess {
  return {
    pid: child.pid,
    exited: child.exited,
    alive: () => child.alive(),
    stopRequested: () => child.stopRequested(),
    logTail: () => child.tail(),
    stop: (timeoutMs = stopTimeoutMs) => child.stop(timeoutMs),
    killSync: () => child.killSync(),
  };
}

/**
 * Continues `pid` and its children if they were stopped (SIGSTOP, as a fault test does): a
 * stopped process acts on no signal but SIGKILL, and Postgres handles its stop signals itself,
 * so without this a frozen server would ignore its stop until the last escalation.
 */
function wake(pid: number): void {
  for (const target of [pid, ...childPids(pid)]) signalProcess(target, "SIGCONT");
}

/** After the kill signal, this long before SIGKILL (when the kill signal is not SIGKILL). */
export const killGraceMs = 1_000;

async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
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
 * Starts a watchdog that sends `signal` to `pid` when this process dies: it blocks reading a pipe
 * only we write to, and the kernel closes our end when we die. Returns a function that dismisses
 * it (after the child exited on its own or was stopped).
 */
function startWatchdog(pid: number, signal: Deno.Signal): () => void {
  const watchdog = new Deno.Command("sh", {
    args: [
      "-c",
      'read _ignored; kill -s "$1" "$2" 2>/dev/null',
      "watchdog",
      signal.slice(3),
      `${pid}`,
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  watchdog.status.catch(() => {});
  return () => {
    signalProcess(watchdog.pid, "SIGKILL");
    watchdog.stdin.close().catch(() => {});
  };
}

/**
 * Starts a child process tied to this one's life (see the module doc).
 *
 * @example
 * ```ts
 * const child = spawnChild({ name: "sleeper", command: "sleep", args: ["60"] });
 * await child.stop(); // SIGTERM, SIGKILL after 5 s
 * ```
 */
export function spawnChild(options: SpawnChildOptions): Child {
  const {
    name,
    command,
    args = [],
    onLine,
    tailLines = 50,
    stopSignal = "SIGTERM",
    killSignal = "SIGKILL",
    lifeline = defaultLifeline(),
  } = options;
  const deathSignal = options.deathSignal ?? stopSignal;
  const viaSetpriv = lifeline === "pdeathsig";
  const proc = new Deno.Command(viaSetpriv ? "setpriv" : command, {
    args: viaSetpriv ? ["--pdeathsig", deathSignal.slice(3), "--", command, ...args] : args,
    env: options.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    detached: options.detached ?? false,
    stdin: "null",
    stdout: onLine ? "piped" : "null",
    stderr: onLine ? "piped" : "null",
  }).spawn();
  const dismissWatchdog = lifeline === "watchdog" ? startWatchdog(proc.pid, deathSignal) : () => {};

  const lines: string[] = [];
  const record = (line: string) => {
    lines.push(line);
    if (lines.length > tailLines) lines.shift();
    onLine?.(line);
  };
  const pumps = onLine
    ? Promise.all([pump(proc.stdout, record), pump(proc.stderr, record)]).catch(() => {})
    : Promise.resolve();
  let running = true;
  let requested = false;
  const exited = proc.status.then(async (status) => {
    running = false;
    dismissWatchdog();
    await pumps;
    return status;
  });

  let stopping: Promise<void> | undefined;
  const send = (signal: Deno.Signal) => {
    if (!running) return;
    signalProcess(proc.pid, signal);
    if (signal !== "SIGKILL") wake(proc.pid);
  };
  return {
    name,
    pid: proc.pid,
    exited,
    alive: () => running,
    stopRequested: () => requested,
    tail: () => [...lines],
    stop(timeoutMs = 5_000) {
      requested = true;
      stopping ??= (async () => {
        send(stopSignal);
        const timers = [
          setTimeout(() => send(killSignal), timeoutMs),
          setTimeout(() => send("SIGKILL"), timeoutMs + killGraceMs),
        ];
        try {
          await exited;
        } finally {
          for (const timer of timers) clearTimeout(timer);
        }
      })();
      return stopping;
    },
    killSync() {
      requested = true;
      send(killSignal);
    },
  };
}
