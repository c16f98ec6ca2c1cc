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

/** The options other than `first`, defaults applied. */
type Settings<T extends Supervised> = Required<Omit<SuperviseOptions<T>, "first">>;

/** `options` with defaults applied; throws a RangeError for one out of range. */
function settingsOf<T extends Supervised>(options: SuperviseOptions<T>): Settings<T> {
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
  return {
    name,
    restart,
    log,
    onRestart,
    maxAttempts,
    initialBackoffMs,
    maxBackoffMs,
    healthyAfterMs,
  };
}

/** One supervision: the server it follows, and the loop that waits for its exit and restarts it. */
class Supervision<T extends Supervised> {
  current: T;
  startedAt = Date.now();
  restarts = 0;
  /** Attempts in a row since the server last stayed up for `healthyAfterMs`. */
  private attempts = 0;
  private inFlight: Promise<T> | undefined;
  private stopped = false;
  private watching: Promise<void> | undefined;
  private readonly stopController = new AbortController();

  constructor(private readonly settings: Settings<T>, first: T) {
    this.current = first;
  }

  /** Waits `ms`, or less if the supervision stops meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stopController.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  /** Starts the server again after `status`; false when it gave up or was stopped. */
  private async recover(status: Deno.CommandStatus): Promise<boolean> {
    const { name, restart, log, onRestart, maxAttempts, initialBackoffMs, maxBackoffMs } =
      this.settings;
    const up = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    log(
      `${name} (pid ${this.current.pid}) exited unexpectedly (${describe(status)}) after ${up} s`,
    );
    while (this.attempts < maxAttempts) {
      const attempt = ++this.attempts;
      const wait = Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
      log(`${name}: restarting in ${wait} ms (attempt ${attempt} of ${maxAttempts})`);
      await this.sleep(wait);
      if (this.stopped) return false;
      const began = Date.now();
      try {
        this.inFlight = restart();
        const server = await this.inFlight;
        if (this.stopped) {
          // The stack began stopping meanwhile: the caller stops what `current` names.
          this.current = server;
          return false;
        }
        this.current = server;
        this.startedAt = Date.now();
        this.restarts++;
        log(`${name} restarted (pid ${server.pid}) in ${Date.now() - began} ms`);
        onRestart(server);
        return true;
      } catch (error) {
        const reason = (error as Error).message.split("\n")[0];
        log(`${name}: restart attempt ${attempt} failed: ${reason}`);
      } finally {
        this.inFlight = undefined;
      }
    }
    log(`${name}: giving up after ${maxAttempts} attempts; restart the stack`);
    return false;
  }

  private async watch(): Promise<void> {
    for (;;) {
      const server = this.current;
      const status = await server.exited;
      if (this.stopped) return;
      if (server !== this.current) continue; // replaced on purpose meanwhile
      if (server.stopRequested()) return;
      if (Date.now() - this.startedAt >= this.settings.healthyAfterMs) this.attempts = 0;
      if (!(await this.recover(status))) return;
    }
  }

  /** Watches the current server, unless a watch is under way already. */
  follow(): void {
    this.watching ??= this.watch().finally(() => {
      this.watching = undefined;
    });
  }

  replace(server: T): void {
    this.current = server;
    this.startedAt = Date.now();
    if (!this.stopped) this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    // A watch waiting on a live server's exit ends when the caller stops that server; only a
    // restart under way is awaited here, so that current() names what the caller must stop.
    await this.inFlight?.catch(() => {});
  }
}

/**
 * Supervises `first` until {@link Supervisor.stop}.
 *
 * @throws {RangeError} when an option is out of range.
 */
export function supervise<T extends Supervised>(options: SuperviseOptions<T>): Supervisor<T> {
  const supervision = new Supervision(settingsOf(options), options.first);
  supervision.follow();
  return {
    current: () => supervision.current,
    restarts: () => supervision.restarts,
    replace: (server) => supervision.replace(server),
    stop: () => supervision.stop(),
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
