/**
 * An Upstash-REST-compatible HTTP server in front of a real Redis, so the real `@upstash/redis`
 * client runs against the local stack and tests exactly as it runs against Upstash.
 *
 * It serves what `@upstash/redis` sends (read from its `pkg/http.ts` and `pkg/pipeline.ts`):
 * - `POST /` with a JSON command array (`["SET", "k", "v", "EX", 60]`) →
 *   `200 {"result": ...}`, or `400 {"error": "..."}` when Redis rejects the command;
 * - `POST /pipeline` and `POST /multi-exec` with an array of command arrays →
 *   `200 [{"result": ...} | {"error": "..."}, ...]` in command order; `/multi-exec` runs them in
 *   one `MULTI`/`EXEC`, and a transaction Redis aborts (`EXECABORT`) is a `400 {"error"}`;
 * - `Authorization: Bearer <token>` (or Upstash's `_token` query parameter); anything else is
 *   `401 {"error": "Unauthorized"}`;
 * - `Upstash-Encoding: base64` (the client's default): every string in the result is base64 of
 *   its bytes, except the status reply `OK`, which the client expects verbatim; error messages
 *   are never encoded.
 *
 * A malformed request (not JSON, wrong shape, too large, unsupported command or endpoint) is a
 * 4xx JSON error, never a 5xx. Only an unreachable Redis answers `503 {"error"}`.
 *
 * Commands that would change the state of the one shared Redis connection (`SELECT`,
 * `SUBSCRIBE`, `MULTI`, `AUTH`, ...), block it (`BLPOP`, `WAIT`, ...) or reconfigure the server
 * (`CONFIG`, `SHUTDOWN`, ...) are refused with a 400: Upstash refuses most of them too.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { Redis as RedisClient, ReplyError } from "ioredis";
import { z } from "zod";

/** Options for {@link startUpstashBridge}. */
export interface UpstashBridgeOptions {
  /** The Redis to forward to, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** The bearer token clients must present (the `UPSTASH_REDIS_REST_TOKEN` they are given). */
  token: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Largest request body accepted; larger is a 413. @default 1048576 */
  maxBodyBytes?: number;
  /** Most commands in one `/pipeline` or `/multi-exec`; more is a 400. @default 1000 */
  maxCommands?: number;
  /** Where "Redis unavailable"/"Redis back" lines go (never tokens or values). @default console.warn */
  log?: (line: string) => void;
}

/** A running bridge. */
export interface UpstashBridge {
  /** `http://127.0.0.1:<port>`: the `UPSTASH_REDIS_REST_URL` to give clients. */
  readonly url: string;
  /** The token clients must present: the `UPSTASH_REDIS_REST_TOKEN` to give them. */
  readonly token: string;
  readonly port: number;
  /** HTTP requests received so far, answered or refused. */
  requests(): number;
  /** Stops accepting requests, lets in-flight ones finish, closes the Redis connection. */
  stop(): Promise<void>;
}

const optionsSchema = z.object({
  redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, "expected a redis:// or rediss:// URL"),
  token: z.string().min(1, "expected a non-empty token"),
  port: z.number().int().min(0).max(65535).default(0),
  maxBodyBytes: z.number().int().min(1).default(1024 * 1024),
  maxCommands: z.number().int().min(1).default(1000),
});

/** One command as the client sends it: a name, then string/number/boolean arguments. */
const commandSchema = z.tuple([z.string().min(1)], z.union([z.string(), z.number(), z.boolean()]));

/**
 * Commands refused because they hold or change the state of the shared connection, block it,
 * or administer the server. Lower case.
 */
const refused = new Set([
  "auth",
  "hello",
  "select",
  "quit",
  "reset",
  "client",
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "sync",
  "psync",
  "replicaof",
  "slaveof",
  "shutdown",
  "debug",
  "config",
  "module",
  "acl",
  "failover",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
]);

/** A 4xx answer for a client mistake. */
class BridgeRequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Command = [string, ...string[]];
type Row = { result: unknown } | { error: string };

function reply(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const OK = "OK";

/** A Redis reply as Upstash returns it in JSON, base64-encoding strings when asked to. */
function encode(value: unknown, base64: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (!base64) return bytes.toString("utf8");
    const text = bytes.length === OK.length ? bytes.toString("latin1") : "";
    return text === OK ? OK : bytes.toString("base64");
  }
  if (typeof value === "string") {
    return base64 && value !== OK ? Buffer.from(value, "utf8").toString("base64") : value;
  }
  if (Array.isArray(value)) return value.map((item) => encode(item, base64));
  if (value instanceof Error) return value.message;
  return value;
}

function parseCommand(raw: unknown, where: string): Command {
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BridgeRequestError(
      400,
      `ERR ${where} must be a JSON array [command, ...args] of strings, numbers or booleans`,
    );
  }
  const [name, ...args] = parsed.data;
  if (refused.has(name.toLowerCase())) {
    throw new BridgeRequestError(
      400,
      `ERR command '${name}' is not supported by the Upstash bridge`,
    );
  }
  return [name, ...args.map((arg) => String(arg))];
}

async function readBody(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new BridgeRequestError(413, `ERR request body exceeds ${maxBytes} bytes`);
  }
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BridgeRequestError(413, `ERR request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BridgeRequestError(400, "ERR request body is not valid JSON");
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Per-command rows of a pipeline/transaction; a non-Redis error means Redis is unreachable. */
function rows(results: [Error | null, unknown][], base64: boolean): Row[] {
  return results.map(([error, result]) => {
    if (error === null) return { result: encode(result, base64) };
    if (error instanceof ReplyError) return { error: (error as Error).message };
    throw error;
  });
}

/** The options checked, defaults applied. */
function validOptions(options: UpstashBridgeOptions): z.infer<typeof optionsSchema> {
  const parsed = optionsSchema.safeParse({ ...options, log: undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`startUpstashBridge(): ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** A Redis connection that fails commands at once while Redis is away and logs outages. */
async function connectRedis(redisUrl: string, log: (line: string) => void): Promise<RedisClient> {
  const redis = new RedisClient(redisUrl, {
    lazyConnect: true,
    // Fail a command at once while Redis is away instead of queueing it without bound: the
    // caller gets a 503 and the cache in front treats it as a miss.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  let redisHealthy = true;
  redis.on("error", (error: Error) => {
    if (redisHealthy) log(`upstash bridge: Redis unavailable (${error.message})`);
    redisHealthy = false;
  });
  redis.on("ready", () => {
    if (!redisHealthy) log("upstash bridge: Redis reachable again");
    redisHealthy = true;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `upstash bridge: cannot reach Redis at ${redisUrl}: ${(error as Error).message}`,
    );
  }
  return redis;
}

/** Whether `req` presents `token`, as a bearer header or else as Upstash's `_token` parameter. */
function authorized(req: Request, url: URL, token: string): boolean {
  const header = req.headers.get("authorization");
  if (header !== null) {
    const match = /^Bearer (.+)$/i.exec(header);
    return match !== null && sameSecret(match[1] ?? "", token);
  }
  const query = url.searchParams.get("_token");
  return query !== null && sameSecret(query, token);
}

/** What the request handler needs from its bridge. */
interface BridgeContext {
  redis: RedisClient;
  token: string;
  maxBodyBytes: number;
  maxCommands: number;
}

/** `POST /`: one command. */
async function runCommand(redis: RedisClient, body: unknown, base64: boolean): Promise<Response> {
  const [name, ...args] = parseCommand(body, "the body");
  try {
    const result = await redis.callBuffer(name, ...args);
    return reply(200, { result: encode(result, base64) });
  } catch (error) {
    if (error instanceof ReplyError) return reply(400, { error: (error as Error).message });
    throw error;
  }
}

/** `POST /pipeline` or `/multi-exec`: the commands in order (one transaction for the latter). */
async function runBatch(
  ctx: BridgeContext,
  path: string,
  body: unknown,
  base64: boolean,
): Promise<Response> {
  if (!Array.isArray(body) || body.length === 0 || body.length > ctx.maxCommands) {
    throw new BridgeRequestError(
      400,
      `ERR the body must be a JSON array of 1 to ${ctx.maxCommands} commands`,
    );
  }
  const commands = body.map((raw, i) => parseCommand(raw, `command ${i + 1}`));
  const batch = path === "/pipeline" ? ctx.redis.pipeline() : ctx.redis.multi();
  for (const [name, ...args] of commands) batch.callBuffer(name, ...args);
  let results: [Error | null, unknown][] | null;
  try {
    results = await batch.exec();
  } catch (error) {
    // EXECABORT: Redis refused to queue a command, so nothing ran.
    if (error instanceof ReplyError) return reply(400, { error: (error as Error).message });
    throw error;
  }
  if (results === null) throw new Error("Redis returned no result for the batch");
  return reply(200, rows(results, base64));
}

/** Answers one request: a 4xx for a client mistake, 503 when Redis is unreachable. */
async function handleRequest(req: Request, ctx: BridgeContext): Promise<Response> {
  const url = new URL(req.url);
  if (!authorized(req, url, ctx.token)) return reply(401, { error: "Unauthorized" });
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
    return reply(404, {
      error: `ERR ${path} is not served: the bridge serves POST /, /pipeline and /multi-exec`,
    });
  }
  if (req.method !== "POST") {
    return reply(405, { error: `ERR method ${req.method} not allowed; use POST` }, {
      allow: "POST",
    });
  }
  const base64 = (req.headers.get("upstash-encoding") ?? "").toLowerCase() === "base64";
  try {
    const body = parseJson(await readBody(req, ctx.maxBodyBytes));
    if (path === "/") return await runCommand(ctx.redis, body, base64);
    return await runBatch(ctx, path, body, base64);
  } catch (error) {
    if (error instanceof BridgeRequestError) return reply(error.status, { error: error.message });
    return reply(503, { error: `ERR Redis unavailable: ${(error as Error).message}` });
  }
}

/**
 * Starts the bridge on 127.0.0.1 and resolves once it is connected to Redis and listening.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const bridge = await startUpstashBridge({ redisUrl: redis.url, token: "local-token" });
 * const client = new Redis({ url: bridge.url, token: bridge.token }); // @upstash/redis
 * await client.set("k", "v", { ex: 60 });
 * await bridge.stop();
 * await redis.stop();
 * ```
 * @throws {RangeError} when an option is malformed.
 * @throws {Error} when Redis cannot be reached at start.
 */
export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  const { redisUrl, token, port, maxBodyBytes, maxCommands } = validOptions(options);
  const log = options.log ?? ((line: string) => console.warn(line));
  const redis = await connectRedis(redisUrl, log);
  const ctx: BridgeContext = { redis, token, maxBodyBytes, maxCommands };

  let requestCount = 0;
  const handle = (req: Request): Promise<Response> => {
    requestCount++;
    return handleRequest(req, ctx);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handle);
  const actualPort = server.addr.port;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    token,
    port: actualPort,
    requests: () => requestCount,
    stop() {
      stopping ??= (async () => {
        await server.shutdown();
        await redis.quit().catch(() => {});
        redis.disconnect();
      })();
      return stopping;
    },
  };
}
