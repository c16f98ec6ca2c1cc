/**
 * A real Redis server for the local stack and tests: Debian's `redis-server` started on a free
 * loopback port in a throw-away folder with persistence off, or the server named by `REDIS_URL`.
 *
 * @module
 */
import { z } from "zod";
import { freePort } from "./ports.ts";
import { findExecutable, spawnChild } from "./child_process.ts";
import { makeOwnedTempDir } from "./owned_temp_dir.ts";

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Where `REDIS_URL` is read from; when it is set nothing is started.
   * @default the process environment
   */
  env?: Record<string, string | undefined>;
  /** The server binary: a path, or a name looked up on PATH. @default "redis-server" */
  binary?: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Give up when the server does not answer within this many ms. @default 10000 */
  startTimeoutMs?: number;
  /**
   * Start the server in a process group of its own, so a terminal's Ctrl-C reaches only the
   * process that started it, which decides when to stop it. @default false
   */
  detached?: boolean;
}

/** A Redis server to talk to. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` (or `REDIS_URL` as given). */
  readonly url: string;
  readonly port: number;
  /** False when the server came from `REDIS_URL` and is not ours to stop. */
  readonly owned: boolean;
  /** Process id of the server we started; undefined for `REDIS_URL`. */
  readonly pid: number | undefined;
  /** Resolves when the server we started exits; never for `REDIS_URL`. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether the server runs (`REDIS_URL`: assumed true). */
  alive(): boolean;
  /** Whether stop() or killSync() was called: an exit after that is no crash. */
  stopRequested(): boolean;
  /** Stops the server we started (SIGTERM, SIGKILL after `timeoutMs`), removes its folder. */
  stop(timeoutMs?: number): Promise<void>;
  /** Immediate, synchronous kill for process-exit handlers. */
  killSync(): void;
}

/** Thrown when no Redis can be had: no `redis-server` binary and no `REDIS_URL`. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** Thrown when `redis-server` was found but did not come up; carries its log tail. */
export class RedisStartError extends Error {
  override name = "RedisStartError";
}

const optionsSchema = z.object({
  binary: z.string().min(1).default("redis-server"),
  port: z.number().int().min(0).max(65535).default(0),
  startTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
});

const redisUrl = z.string().regex(/^rediss?:\/\/[^\s]+$/, "expected a redis:// or rediss:// URL");

export { findExecutable };

/**
 * The `process_id` of the Redis server answering on `port` (inline `INFO server`), or undefined
 * when nothing answers. Comparing it with our child's pid keeps a server that already held the
 * port from passing for ours.
 */
async function serverPid(port: number): Promise<number | undefined> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("INFO server\r\n"));
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(4096);
    let text = "";
    while (text.length < 64 * 1024) {
      const n = await conn.read(buffer);
      if (n === null) return undefined;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      const match = /process_id:(\d+)\r\n/.exec(text);
      if (match) return Number(match[1]);
      if (text.startsWith("-")) return undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    conn?.close();
  }
}

async function readTail(file: string, lines = 20): Promise<string> {
  try {
    return (await Deno.readTextFile(file)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts a real `redis-server` on 127.0.0.1 with no persistence (`--save "" --appendonly no`) in
 * a temporary folder and resolves once it answers; or, when `REDIS_URL` is set, resolves
 * with that server without starting anything.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * try {
 *   console.log(redis.url); // redis://127.0.0.1:40123
 * } finally {
 *   await redis.stop();
 * }
 * ```
 * @throws {RedisUnavailableError} when `REDIS_URL` is unset and no `redis-server` is on PATH.
 * @throws {RedisStartError} when the server exits or stays silent during start-up.
 * @throws {RangeError} when an option is malformed.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const parsed = optionsSchema.safeParse({
    binary: options.binary,
    port: options.port,
    startTimeoutMs: options.startTimeoutMs,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`startRedis(): ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const { binary, startTimeoutMs } = parsed.data;
  const env = options.env ?? Deno.env.toObject();

  const given = env.REDIS_URL;
  if (given !== undefined && given !== "") {
    const url = redisUrl.safeParse(given);
    if (!url.success) throw new RangeError(`REDIS_URL: ${url.error.issues[0]?.message}`);
    return {
      url: url.data,
      port: Number(new URL(url.data).port || 6379),
      owned: false,
      pid: undefined,
      exited: new Promise<Deno.CommandStatus>(() => {}),
      alive: () => true,
      stopRequested: () => false,
      stop: () => Promise.resolve(),
      killSync: () => {},
    };
  }

  const executable = findExecutable(binary);
  if (!executable) {
    throw new RedisUnavailableError(
      `no Redis available: '${binary}' is not on PATH and REDIS_URL is not set. ` +
        "Install Debian's redis-server (apt-get install -y redis-server) or set REDIS_URL.",
    );
  }

  // A port picked by the kernel can be taken again before redis-server binds it: retry then.
  const attempts = parsed.data.port === 0 ? 3 : 1;
  for (let attempt = 1;; attempt++) {
    const port = parsed.data.port === 0 ? freePort() : parsed.data.port;
    try {
      return await launch(executable, port, startTimeoutMs, options.detached ?? false);
    } catch (error) {
      const portTaken = error instanceof RedisStartError &&
        /address already in use/i.test(error.message);
      if (!portTaken || attempt >= attempts) throw error;
    }
  }
}

async function launch(
  executable: string,
  port: number,
  startTimeoutMs: number,
  detached: boolean,
): Promise<RedisServer> {
  // Owned: a folder a killed run leaves behind is swept by the next start.
  const dir = await makeOwnedTempDir("pf-redis-");
  const logFile = `${dir}/redis.log`;
  const child = spawnChild({
    name: "Redis",
    command: executable,
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--logfile",
      logFile,
      "--loglevel",
      "warning",
    ],
    detached,
  });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs = 5_000): Promise<void> => {
    stopping ??= child.stop(timeoutMs).then(cleanup);
    return stopping;
  };

  const deadline = Date.now() + startTimeoutMs;
  while ((await serverPid(port)) !== child.pid) {
    if (!child.alive()) {
      const tail = await readTail(logFile);
      await cleanup();
      throw new RedisStartError(`redis-server exited during start-up on port ${port}:\n${tail}`);
    }
    if (Date.now() > deadline) {
      const tail = await readTail(logFile);
      await stop();
      throw new RedisStartError(
        `redis-server did not answer on port ${port} within ${startTimeoutMs} ms:\n${tail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    pid: child.pid,
    exited: child.exited,
    alive: () => child.alive(),
    stopRequested: () => child.stopRequested(),
    stop,
    killSync: () => child.killSync(),
  };
}
