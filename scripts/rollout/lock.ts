/**
 * One deploy per environment at a time: a session-level advisory lock held on a dedicated
 * connection for the whole deploy, plus a row in `public.deployment_locks` saying who holds it
 * and since when, so a second deploy is refused with a useful message.
 *
 * The connection must be a direct (or session-mode) one: through Supavisor's transaction pooler
 * (port 6543) consecutive statements may run on different server sessions, so a session lock
 * could be taken on one backend and "released" on another. Such a URL is refused.
 *
 * @module
 */
import postgres from "postgres";
import { PreconditionError } from "../_cli/errors.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import type { Executor, Queryable } from "./executor.ts";

/** Thrown when another session holds the environment's deploy lock. */
export class LockHeldError extends PreconditionError {
  override name = "LockHeldError";
  constructor(
    readonly environment: string,
    readonly holder: string | undefined,
    readonly deploymentId: string | undefined,
    readonly since: Date | undefined,
    readonly backendPid: number | undefined,
  ) {
    super(
      holder
        ? `another deploy to ${environment} is running: ${deploymentId} by ${holder} since ${since?.toISOString()} (database backend pid ${backendPid})`
        : `another deploy to ${environment} holds the lock (its holder row is not written yet)`,
    );
  }
}

/** A held lock; its connection is the deploy's session for every write. */
export interface DeployLock {
  /** The dedicated session (undefined in a dry run). */
  readonly session: Queryable | undefined;
  /** @throws {PreconditionError} when the session lost the lock (e.g. the connection dropped). */
  verify(): Promise<void>;
  /**
   * Writes the holder row if it could not be written at acquisition because the table did not
   * exist yet (a database the deploy is about to migrate). No-op otherwise.
   */
  recordHolder(): Promise<void>;
  /** Deletes the holder row, unlocks and closes the session. Idempotent. */
  release(): Promise<void>;
}

/** Options of {@link acquireDeployLock}. */
export interface AcquireOptions {
  environment: string;
  deploymentId: string;
  holder: string;
  executor: Executor;
  /** Seconds to wait for the connection. @default 10 */
  connectTimeoutS?: number;
}

/** The advisory lock key of an environment's deploys. */
export function lockKey(environment: string): string {
  return `parker-flight:deploy:${environment}`;
}

/**
 * Refuses URLs that go through Supavisor's transaction pooler (port 6543).
 *
 * @throws {ConfigError} naming the port and what to use instead.
 */
export function assertSessionUrl(url: string): void {
  let port: string;
  try {
    port = new URL(url).port;
  } catch {
    throw new ConfigError("the database URL is not a valid URL");
  }
  if (port === "6543") {
    throw new ConfigError(
      "the deploy lock needs a session connection, but the database URL uses port 6543 " +
        "(Supavisor transaction mode, where a session lock cannot be held): use the direct " +
        "connection (db.<ref>.supabase.co:5432) or the pooler's session mode (port 5432)",
    );
  }
}

const tryLock = "select pg_try_advisory_lock(hashtextextended($1, 0)) as locked";
const unlock = "select pg_advisory_unlock(hashtextextended($1, 0)) as unlocked";
const heldByMe = `select exists (
  select 1 from pg_locks
  where locktype = 'advisory' and pid = pg_backend_pid() and granted
    and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)
) as held`;
const readHolder = `select deployment_id, holder, acquired_at, backend_pid
  from public.deployment_locks where environment = $1`;
const writeHolder = `insert into public.deployment_locks (environment, deployment_id, holder)
  values ($1, $2, $3)
  on conflict (environment) do update set deployment_id = excluded.deployment_id,
    holder = excluded.holder, acquired_at = now(), backend_pid = pg_backend_pid()`;
const deleteHolder =
  "delete from public.deployment_locks where environment = $1 and deployment_id = $2";

/**
 * Takes the deploy lock of `environment` on a new session to `url`. In a dry run prints the
 * statements and holds nothing (`url` may then be unknown).
 *
 * @throws {ConfigError} for a transaction-pooler URL.
 * @throws {LockHeldError} when another deploy holds the lock.
 */
export async function acquireDeployLock(
  url: string | undefined,
  options: AcquireOptions,
): Promise<DeployLock> {
  const { environment, deploymentId, holder, executor, connectTimeoutS = 10 } = options;
  if (url !== undefined) assertSessionUrl(url);
  const key = lockKey(environment);
  if (executor.dryRun) return await dryRunLock(key, options);

  if (url === undefined) throw new TypeError("acquireDeployLock() needs a URL in a live run");
  // One connection, never closed for idleness or age (postgres.js recycles connections after
  // 30-60 minutes by default, which would drop the lock mid-deploy). If the server ends it anyway,
  // postgres.js reconnects on the next statement and verify() finds the lock gone.
  const session = postgres(url, {
    max: 1,
    prepare: false,
    connect_timeout: connectTimeoutS,
    idle_timeout: 0,
    max_lifetime: 0,
    onnotice: () => {},
    connection: { application_name: `rollout-lock:${environment}` },
  });
  let holderPending = false;
  const writeHolderRow = async (db: postgres.Sql) => {
    try {
      await executor.write(db, { text: writeHolder, params: [environment, deploymentId, holder] });
      holderPending = false;
    } catch (error) {
      if (!isUndefinedTable(error)) throw error;
      holderPending = true;
    }
  };
  try {
    const [row] = await executor.write<{ locked: boolean }>(session, {
      text: tryLock,
      params: [key],
    });
    if (!row?.locked) throw await lockHeld(executor, session, environment);
    await writeHolderRow(session);
  } catch (error) {
    await session.end({ timeout: 5 });
    throw error;
  }

  const held = session;
  let released: Promise<void> | undefined;
  return {
    session: held,
    async recordHolder() {
      if (holderPending) await writeHolderRow(held);
    },
    async verify() {
      let row: { held: boolean } | undefined;
      try {
        [row] = await held.unsafe(heldByMe, [key]) as { held: boolean }[];
      } catch {
        // the session is gone (the first statement after a drop fails; the next would reconnect)
      }
      if (!row?.held) {
        throw new PreconditionError(`the deploy lock of ${environment} was lost (session ended)`);
      }
    },
    release() {
      released ??= (async () => {
        try {
          if (!holderPending) {
            await executor.write(held, { text: deleteHolder, params: [environment, deploymentId] });
          }
          await executor.write(held, { text: unlock, params: [key] });
        } finally {
          await held.end({ timeout: 5 });
        }
      })();
      return released;
    },
  };
}

/** A lock that prints what a live run would do and holds nothing. */
async function dryRunLock(key: string, options: AcquireOptions): Promise<DeployLock> {
  const { environment, deploymentId, holder, executor } = options;
  await executor.write(undefined, { text: tryLock, params: [key] });
  await executor.write(undefined, {
    text: writeHolder,
    params: [environment, deploymentId, holder],
  });
  return {
    session: undefined,
    verify: () => Promise.resolve(),
    recordHolder: () => Promise.resolve(),
    release: async () => {
      await executor.write(undefined, {
        text: deleteHolder,
        params: [environment, deploymentId],
      });
      await executor.write(undefined, { text: unlock, params: [key] });
    },
  };
}

/** The error for a lock someone else holds, naming them when their holder row says who. */
async function lockHeld(
  executor: Executor,
  session: Queryable,
  environment: string,
): Promise<LockHeldError> {
  let current:
    | { deployment_id: string; holder: string; acquired_at: Date; backend_pid: number }
    | undefined;
  try {
    [current] = await executor.read<NonNullable<typeof current>>(session, {
      text: readHolder,
      params: [environment],
    }) ?? [];
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
  }
  return new LockHeldError(
    environment,
    current?.holder,
    current?.deployment_id,
    current?.acquired_at,
    current?.backend_pid,
  );
}

function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "42P01";
}
