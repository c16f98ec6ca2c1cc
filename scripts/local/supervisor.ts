/**
 * Keeps one of the stack's servers running: when it exits without being asked to (a crash, a
 * SIGKILL, the OOM killer), the supervisor says so and starts it again, with backoff between
 * attempts and a bounded number of attempts in a row, so a server that cannot start does not
 * spin. A server that then stays up for a while earns a fresh set of attempts.
 *
 * Clients reconnect by themselves (postgres.js pools, ioredis) because a restart reuses the same
 * port; a function isolate gets a new port and its route is updated by `onRestart`.
 *
 * @module
 */

/** What the supervisor watches: the shape every child of the stack has. */
export interface Supervised {
  /** Undefined for a server that is not ours (e.g. `REDIS_URL`), whose exit never comes. */
  readonly pid: number | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether its exit was asked for (then it is not restarted). */
  stopRequested(): boolean;
}

/** Options for {@link supervise}. */
export interface SuperviseOptions<T extends Supervised> {
  /** Name in messages, e.g. "Postgres". */
  name: string;
  /** The running server. */
  first: T;
  /** Starts it again; throws when it cannot. */
  restart: () => Promise<T>;
  /** Where the supervisor says what happened. */
  log: (line: string) => void;
  /** Called with each restarted server (e.g. to update a route or stack.json). */
  onRestart?: (server: T) => void;
  /** Attempts in a row before giving up. @default 5 */
  maxAttempts?: number;
  /** Wait before the first attempt; doubled for each next one. @default 250 */
  initialBackoffMs?: number;
  /** The longest wait between attempts. @default 4000 */
  maxBackoffMs?: number;
  /** Up this long, a server earns a fresh set of attempts. @default 60000 */
  healthyAfterMs?: number;
}

/** A running supervision. */
export interface Supervisor<T extends Supervised> {
  /** The server as it is now (the latest restart). */
  current(): T;
  /** Restarts so far. */
  restarts(): number;
  /** Follows a server replaced on purpose (a function restarted with new settings). */
  replace(server: T): void;
  /** Stops supervising (the caller then stops the server); resolves once no start is under way. */
  stop(): Promise<void>;
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

/**
 * Supervises `first` until {@link Supervisor.stop}.
 *
 * @throws {RangeError} when an option is out of range.
 */
export function supervise<T extends Supervised>(options: SuperviseOptions<T>): Supervisor<T> {
  const {
    name,
    restart,
    log,
    onRestart = () => {},
    maxAttempts = 5,
    initialBackoffMs = 250,
    maxBackoffMs = 4_000,
    healthyAfterMs = 60_000,
  } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`supervise(): maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  if (!(initialBackoffMs >= 0 && maxBackoffMs >= initialBackoffMs)) {
    throw new RangeError("supervise(): expected 0 <= initialBackoffMs <= maxBackoffMs");
  }
  let current = options.first;
  let startedAt = Date.now();
  let restarts = 0;
  /** Attempts in a row since the server last stayed up for `healthyAfterMs`. */
  let attempts = 0;
  let inFlight: Promise<T> | undefined;
  let stopped = false;
  let watching: Promise<void> | undefined;
  const stopController = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopController.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });

  /** Starts the server again after `status`; false when it gave up or was stopped. */
  const recover = async (status: Deno.CommandStatus): Promise<boolean> => {
    const up = ((Date.now() - startedAt) / 1000).toFixed(1);
    log(`${name} (pid ${current.pid}) exited unexpectedly (${describe(status)}) after ${up} s`);
    while (attempts < maxAttempts) {
      const attempt = ++attempts;
      const wait = Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
      log(`${name}: restarting in ${wait} ms (attempt ${attempt} of ${maxAttempts})`);
      await sleep(wait);
      if (stopped) return false;
      const began = Date.now();
      try {
        inFlight = restart();
        const server = await inFlight;
        if (stopped) {
          // The stack began stopping meanwhile: the caller stops what `current` names.
          current = server;
          return false;
        }
        current = server;
        startedAt = Date.now();
        restarts++;
        log(`${name} restarted (pid ${server.pid}) in ${Date.now() - began} ms`);
        onRestart(server);
        return true;
      } catch (error) {
        const reason = (error as Error).message.split("\n")[0];
        log(`${name}: restart attempt ${attempt} failed: ${reason}`);
      } finally {
        inFlight = undefined;
      }
    }
    log(`${name}: giving up after ${maxAttempts} attempts; restart the stack`);
    return false;
  };

  const watch = async () => {
    for (;;) {
      const server = current;
      const status = await server.exited;
      if (stopped) return;
      if (server !== current) continue; // replaced on purpose meanwhile
      if (server.stopRequested()) return;
      if (Date.now() - startedAt >= healthyAfterMs) attempts = 0;
      if (!(await recover(status))) return;
    }
  };
  const follow = () => {
    watching ??= watch().finally(() => {
      watching = undefined;
    });
  };
  follow();

  return {
    current: () => current,
    restarts: () => restarts,
    replace(server) {
      current = server;
      startedAt = Date.now();
      if (!stopped) follow();
    },
    async stop() {
      stopped = true;
      stopController.abort();
      // A watch waiting on a live server's exit ends when the caller stops that server; only a
      // restart under way is awaited here, so that current() names what the caller must stop.
      await inFlight?.catch(() => {});
    },
  };
}

/** A {@link Supervisor} that only holds its server and restarts nothing (supervision off). */
export function unsupervised<T extends Supervised>(first: T): Supervisor<T> {
  let current = first;
  return {
    current: () => current,
    restarts: () => 0,
    replace(server) {
      current = server;
    },
    stop: () => Promise.resolve(),
  };
}
