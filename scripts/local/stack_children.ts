/**
 * What one local stack runs, and how it all stops: the supervised child processes (Postgres,
 * Redis, every function isolate), the gateway, and the in-process servers (KMS endpoint, Upstash
 * bridge). `startStack()` fills it as it comes up; a failed start and `Stack.stop()` both end it
 * through {@link StackChildrenSet.stopAll}, in the one order that loses nothing.
 *
 * @module
 */
import type { EmbeddedPostgres } from "./embedded_postgres.ts";
import type { FunctionProcess } from "./function_process.ts";
import type { Gateway, Route } from "./gateway.ts";
import type { RedisServer } from "./redis.ts";
import { supervise, type Supervisor, unsupervised } from "./supervisor.ts";

/** The pids of the processes a stack started (for stack.json and fault tests). */
export interface StackChildren {
  /** The embedded postmaster; absent with `databaseUrl`. */
  postgres?: number;
  /** Our redis-server; absent without Redis or with `REDIS_URL`. */
  redis?: number;
  /** Each function's isolates (one pid per isolate). */
  functions: Record<string, number[]>;
}

/** How many times each supervised child was restarted. */
export interface StackRestarts {
  postgres: number;
  redis: number;
  functions: Record<string, number>;
}

/**
 * Bounds of a graceful stop: the isolates get this long after SIGTERM before SIGKILL, in
 * parallel; then Redis as long and, at the same time, Postgres {@link postgresStopMs} of fast
 * shutdown before SIGQUIT.
 */
export const childStopMs = 2_000;
/** See {@link childStopMs}. */
export const postgresStopMs = 5_000;

type Child = EmbeddedPostgres | RedisServer | FunctionProcess;

/** Settings of a {@link StackChildrenSet}. */
export interface StackChildrenOptions {
  /** Restart children that die unasked (see supervisor.ts); otherwise only track them. */
  supervised: boolean;
  log: (line: string) => void;
  /** Called after a supervised restart, with the pids as they are now. */
  onChildrenChange: (children: StackChildren) => void;
}

/** The children, gateway and in-process servers of one stack. */
export class StackChildrenSet {
  postgres: Supervisor<EmbeddedPostgres> | undefined;
  redis: Supervisor<RedisServer> | undefined;
  /** Each function's isolates, one supervisor per isolate, in round-robin order. */
  readonly functions = new Map<string, Supervisor<FunctionProcess>[]>();
  /** What the gateway routes to, by function name (read per request). */
  readonly routes = new Map<string, Route>();
  gateway: Gateway | undefined;
  readonly #stoppers: Array<() => Promise<void>> = [];
  readonly #options: StackChildrenOptions;

  constructor(options: StackChildrenOptions) {
    this.#options = options;
  }

  /** A child with its supervisor (one that never restarts when supervision is off). */
  watch<T extends Child>(
    name: string,
    first: T,
    restart: () => Promise<T>,
    onRestart: (server: T) => void = () => {},
  ): Supervisor<T> {
    const { supervised, log, onChildrenChange } = this.#options;
    if (!supervised) return unsupervised(first);
    return supervise<T>({
      name,
      first,
      restart,
      log,
      onRestart: (server) => {
        onRestart(server);
        onChildrenChange(this.children());
      },
    });
  }

  /** An in-process server to close before Redis and Postgres stop. */
  onStop(stop: () => Promise<void>): void {
    this.#stoppers.push(stop);
  }

  /** The pids as they are now. */
  children(): StackChildren {
    const redisPid = this.redis?.current().pid;
    return {
      ...(this.postgres ? { postgres: this.postgres.current().pid } : {}),
      ...(redisPid !== undefined ? { redis: redisPid } : {}),
      functions: Object.fromEntries(
        [...this.functions].map(([n, ss]) => [n, ss.map((s) => s.current().pid)]),
      ),
    };
  }

  /** Restarts the supervisors made so far (a function's: summed over its isolates). */
  restarts(): StackRestarts {
    return {
      postgres: this.postgres?.restarts() ?? 0,
      redis: this.redis?.restarts() ?? 0,
      functions: Object.fromEntries(
        [...this.functions].map(([n, ss]) => [n, ss.reduce((sum, s) => sum + s.restarts(), 0)]),
      ),
    };
  }

  /**
   * Stops everything within {@link childStopMs} and {@link postgresStopMs}: supervisors first (no
   * restart of what is being stopped), the gateway, the isolates, the in-process servers (before
   * Redis goes, so no "Redis unavailable"), then Redis and Postgres together.
   */
  async stopAll(): Promise<void> {
    const isolates = [...this.functions.values()].flat();
    await Promise.all([this.postgres, this.redis, ...isolates].map((s) => s?.stop()));
    await this.gateway?.stop().catch(() => {});
    await Promise.all(isolates.map((f) => f.current().stop(childStopMs)));
    for (const stop of this.#stoppers.reverse()) await stop().catch(() => {});
    await Promise.all([
      this.redis?.current().stop(childStopMs),
      this.postgres?.current().stop(postgresStopMs),
    ]);
  }

  /** Synchronous last-resort kill of every child, for process-exit handlers. */
  killSync(): void {
    for (const supervisor of [...[...this.functions.values()].flat(), this.redis, this.postgres]) {
      supervisor?.current().killSync();
    }
  }
}
