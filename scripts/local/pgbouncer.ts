/**
 * A real PgBouncer in transaction mode in front of Postgres: the rules of Supavisor's transaction
 * pooler (port 6543) on a machine without it. A server connection goes back to the pool after
 * each transaction, so a named prepared statement made on one is missing on the next — which is
 * why the pooler connection mode never makes one (`_shared/connection_mode.ts`).
 *
 * Debian's `pgbouncer` (1.18) is started on a free loopback port with a throw-away folder; it
 * refuses to run as root, so as root it is started with `-u postgres` (the user the embedded
 * Postgres runs as). Clients are trusted on loopback; the server password goes in its auth file.
 * It runs through the stack's one child-process helper (`child_process.ts`): its lifeline and its
 * stop logic.
 *
 * @module
 */
import { findExecutable, spawnChild } from "./child_process.ts";
import { freePort, waitForPort } from "./ports.ts";

/** Options for {@link startPgBouncer}. */
export interface PgBouncerOptions {
  /** The Postgres server behind it. */
  targetPort: number;
  /** User and password PgBouncer logs into Postgres with. @default postgres / postgres */
  user?: string;
  password?: string;
  /** Server connections per database and user. @default 10 */
  poolSize?: number;
  /** The binary: a path or a name on PATH. @default "pgbouncer" */
  binary?: string;
}

/** A running PgBouncer. */
export interface PgBouncer {
  readonly port: number;
  /** `url` with host and port replaced by PgBouncer's. */
  urlFor(url: string): string;
  /** Stops it (SIGTERM, SIGKILL after 3 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when `pgbouncer` is not installed. */
export class PgBouncerUnavailableError extends Error {
  override name = "PgBouncerUnavailableError";
}

const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;

/**
 * Starts PgBouncer (`pool_mode = transaction`) and resolves once it accepts connections.
 *
 * @throws {PgBouncerUnavailableError} when the binary is not found (`apt-get install pgbouncer`).
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const { targetPort, user = "postgres", password = "postgres", poolSize = 10 } = options;
  // Debian installs it in /usr/sbin, which a non-root PATH may lack.
  const name = options.binary ?? "pgbouncer";
  const binary = findExecutable(name) ??
    (name.includes("/") ? undefined : findExecutable(`/usr/sbin/${name}`));
  if (!binary) {
    throw new PgBouncerUnavailableError(
      "pgbouncer is not installed (Debian: apt-get install pgbouncer)",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "pf-pgbouncer-" });
  await Deno.chmod(dir, 0o777);
  const port = freePort();
  await Deno.writeTextFile(`${dir}/userlist.txt`, `${quote(user)} ${quote(password)}\n`);
  await Deno.writeTextFile(
    `${dir}/pgbouncer.ini`,
    [
      "[databases]",
      `* = host=127.0.0.1 port=${targetPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${dir}/userlist.txt`,
      "pool_mode = transaction",
      `default_pool_size = ${poolSize}`,
      "max_client_conn = 500",
      // postgres.js sends these as start-up parameters; PgBouncer passes on only a few.
      "ignore_startup_parameters = statement_timeout,extra_float_digits,search_path",
      `logfile = ${dir}/pgbouncer.log`,
      `pidfile = ${dir}/pgbouncer.pid`,
      "",
    ].join("\n"),
  );
  for (const file of ["userlist.txt", "pgbouncer.ini"]) await Deno.chmod(`${dir}/${file}`, 0o644);
  const args = Deno.uid() === 0 ? ["-u", "postgres", `${dir}/pgbouncer.ini`] : [
    `${dir}/pgbouncer.ini`,
  ];
  // Its output is kept (tail) for the message when it exits before it listens.
  const child = spawnChild({ name: "PgBouncer", command: binary, args, onLine: () => {} });
  try {
    await Promise.race([
      waitForPort(port, { timeoutMs: 10_000 }),
      child.exited.then(() => {
        throw new Error(`pgbouncer exited: ${child.tail().join("\n").trim()}`);
      }),
    ]);
  } catch (error) {
    child.killSync();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    stop() {
      stopping ??= child.stop(3000).then(() =>
        Deno.remove(dir, { recursive: true }).catch(() => {})
      );
      return stopping;
    },
  };
}
