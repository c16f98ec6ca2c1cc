/**
 * A TCP proxy between the functions and Postgres that adds a fixed delay to every chunk in each
 * direction — a database some milliseconds away, as a hosted project's is — and counts the
 * queries clients send by reading the wire protocol (see `pg_frontend_parser.ts`).
 *
 * The count is the database side's: it does not depend on any counter in our code, so tests and
 * the benchmark use it to check how many queries a path really sends.
 *
 * It also counts round trips: a flight is what a client sends between two answers of the server
 * (its first chunk after the server last wrote on that connection); each flight is one round trip
 * the client waits for. A flight is attributed to every statement one of its Parse, Bind,
 * Execute or Query messages names, so postgres.js's Parse/Describe/Flush, then Bind/Execute/Sync
 * counts two round trips for its statement, a prepared statement's Bind/Execute/Sync one, and
 * pipelined statements share their flight. Named Parse messages (prepared statements, which a
 * transaction pooler cannot keep) are counted apart.
 *
 * Usage as a program: `deno run -A scripts/local/latency_proxy.ts --target 127.0.0.1:54322
 * --port 54320 --delay-ms 5`; Ctrl-C prints the counts.
 *
 * @module
 */
import { z } from "zod";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { normalizeSql, PgFrontendParser } from "./pg_frontend_parser.ts";

/** Options for {@link startLatencyProxy}. */
export interface LatencyProxyOptions {
  /** Postgres host. @default "127.0.0.1" */
  targetHost?: string;
  /** Postgres port. */
  targetPort: number;
  /** Port to listen on (127.0.0.1); 0 picks a free one. @default 0 */
  port?: number;
  /** Delay added to each chunk, each way, in ms. @default 5 */
  delayMs?: number;
  /** Distinct statement texts tracked; the rest count under "(other)". @default 500 */
  maxStatements?: number;
}

/** Counts since start or the last `reset()`. */
export interface ProxyStats {
  /** Client connections accepted. */
  connections: number;
  /** Queries: simple Query plus Execute messages. */
  queries: number;
  simpleQueries: number;
  executes: number;
  /** Queries by SQL text (whitespace collapsed). */
  byStatement: Record<string, number>;
  /** Client flights that waited for the server, start-up and authentication included. */
  roundTrips: number;
  /** Round trips by the SQL text of the statements their messages name. */
  roundTripsByStatement: Record<string, number>;
  /** Parse messages of named (prepared) statements. */
  namedParses: number;
  /** Connections whose stream could not be read (TLS). */
  opaqueConnections: number;
}

/** A running proxy. */
export interface LatencyProxy {
  readonly port: number;
  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string;
  stats(): ProxyStats;
  reset(): void;
  /** Changes the delay for chunks read from now on. */
  setDelay(ms: number): void;
  /**
   * Simulates the database becoming unreachable: closes open connections and refuses new ones
   * (the port stops listening) until called with `false`.
   */
  setBlocked(blocked: boolean): void;
  close(): Promise<void>;
}

function validDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 60_000) {
    throw new RangeError(`delay must be 0..60000 ms, received ${ms}`);
  }
  return ms;
}

interface Queued {
  chunk: Uint8Array;
  due: number;
}

/**
 * Copies `from` to `to`, each chunk held until `delayMs` after it was read. Reading never waits
 * for writing, so the delay adds latency, not a bandwidth limit; order is kept because due times
 * only grow.
 */
async function delayedPipe(
  from: Deno.Conn,
  to: Deno.Conn,
  delay: () => number,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const queue: Queued[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const reading = (async () => {
    try {
      for await (const chunk of from.readable) {
        const copy = chunk.slice();
        onChunk(copy);
        queue.push({ chunk: copy, due: performance.now() + delay() });
        wake?.();
      }
    } catch {
      // reset by the peer or closed by us: the writer drains what was read
    } finally {
      ended = true;
      wake?.();
    }
  })();
  const writer = to.writable.getWriter();
  try {
    while (true) {
      const next = queue.shift();
      if (!next) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const wait = next.due - performance.now();
      if (wait > 0.05) await new Promise((resolve) => setTimeout(resolve, wait));
      await writer.write(next.chunk);
    }
  } catch {
    // the other side went away
  } finally {
    writer.releaseLock();
    await reading;
  }
}

function freshStats(): ProxyStats {
  return {
    connections: 0,
    queries: 0,
    simpleQueries: 0,
    executes: 0,
    byStatement: {},
    roundTrips: 0,
    roundTripsByStatement: {},
    namedParses: 0,
    opaqueConnections: 0,
  };
}

/** What a proxied connection needs from its proxy. */
interface SessionContext {
  targetHost: string;
  targetPort: number;
  delay: () => number;
  /** The counts now (`reset()` replaces them). */
  stats: () => ProxyStats;
  maxStatements: number;
  /** Connections to close when the proxy closes or is blocked. */
  open: Set<Deno.Conn>;
  /** Sessions under way, awaited by `close()`. */
  sessions: Set<Promise<void>>;
}

/** A bounded per-text counter: texts beyond `maxStatements` count under "(other)". */
function bump(counts: Record<string, number>, text: string, maxStatements: number): void {
  const key = text in counts || Object.keys(counts).length < maxStatements ? text : "(other)";
  counts[key] = (counts[key] ?? 0) + 1;
}

function closeTracked(open: Set<Deno.Conn>, conn: Deno.Conn): void {
  open.delete(conn);
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** Counts one connection's queries and flights from the chunks each side sends. */
function sessionCounter(ctx: SessionContext): {
  clientChunk(chunk: Uint8Array): void;
  serverChunk(): void;
} {
  // The flight under way: open from the client's first chunk until the server writes.
  let inFlight = false;
  const flightStatements = new Set<string>();
  const parser = new PgFrontendParser({
    onQuery(event) {
      const stats = ctx.stats();
      stats.queries++;
      if (event.kind === "simple") stats.simpleQueries++;
      else stats.executes++;
      bump(stats.byStatement, normalizeSql(event.text) || "(unknown)", ctx.maxStatements);
    },
    onStatementMessage(message) {
      const stats = ctx.stats();
      if (message.type === "parse" && message.statementName) stats.namedParses++;
      const text = message.text || "(unknown)";
      if (flightStatements.has(text)) return;
      flightStatements.add(text);
      bump(stats.roundTripsByStatement, text, ctx.maxStatements);
    },
    onOpaque() {
      ctx.stats().opaqueConnections++;
    },
  });
  return {
    clientChunk(chunk) {
      if (!inFlight) {
        inFlight = true;
        flightStatements.clear();
        ctx.stats().roundTrips++;
      }
      parser.push(chunk);
    },
    serverChunk() {
      inFlight = false;
    },
  };
}

/** Connects `client` to the database and relays both ways, delayed and counted. */
async function serveSession(client: Deno.TcpConn, ctx: SessionContext): Promise<void> {
  let server: Deno.TcpConn;
  try {
    server = await Deno.connect({ hostname: ctx.targetHost, port: ctx.targetPort });
  } catch {
    closeTracked(ctx.open, client);
    return;
  }
  // Nagle's algorithm holds a small write back until the previous one is acknowledged, and
  // delayed ACKs hold that for up to 40 ms: a protocol of small request/answer messages
  // (Parse/Describe, then Bind/Execute) would pay it on every query. Real database hosts
  // and poolers set TCP_NODELAY; so do we, so the added latency is exactly the configured one.
  server.setNoDelay(true);
  client.setNoDelay(true);
  ctx.open.add(server);
  const counter = sessionCounter(ctx);
  await Promise.all([
    delayedPipe(client, server, ctx.delay, (chunk) => counter.clientChunk(chunk)).finally(() =>
      closeTracked(ctx.open, server)
    ),
    delayedPipe(server, client, ctx.delay, () => counter.serverChunk()).finally(() =>
      closeTracked(ctx.open, client)
    ),
  ]);
}

/** Serves every connection `listener` accepts until it closes. */
async function acceptSessions(listener: Deno.TcpListener, ctx: SessionContext): Promise<void> {
  try {
    for await (const client of listener) {
      ctx.stats().connections++;
      ctx.open.add(client);
      const session = serveSession(client, ctx).finally(() => ctx.sessions.delete(session));
      ctx.sessions.add(session);
    }
  } catch {
    // listener closed
  }
}

/** Starts the proxy on 127.0.0.1. */
export function startLatencyProxy(options: LatencyProxyOptions): LatencyProxy {
  const { targetHost = "127.0.0.1", targetPort, port = 0, maxStatements = 500 } = options;
  let delayMs = validDelay(options.delayMs ?? 5);
  let blocked = false;
  let listener = Deno.listen({ hostname: "127.0.0.1", port });
  const listenPort = (listener.addr as Deno.NetAddr).port;
  let stats = freshStats();
  const ctx: SessionContext = {
    targetHost,
    targetPort,
    delay: () => delayMs,
    stats: () => stats,
    maxStatements,
    open: new Set(),
    sessions: new Set(),
  };
  let accepting = acceptSessions(listener, ctx);
  let closed = false;

  return {
    port: listenPort,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(listenPort);
      return u.toString();
    },
    stats: () => structuredClone(stats),
    reset() {
      stats = freshStats();
    },
    setDelay(ms) {
      delayMs = validDelay(ms);
    },
    setBlocked(value) {
      if (closed || value === blocked) return;
      blocked = value;
      if (blocked) {
        // Stop listening: new connections are refused, as by a host whose database is down.
        // (Accepting and closing at once would not do: postgres.js retries that forever.)
        listener.close();
        for (const conn of [...ctx.open]) closeTracked(ctx.open, conn);
      } else {
        listener = Deno.listen({ hostname: "127.0.0.1", port: listenPort });
        accepting = acceptSessions(listener, ctx);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!blocked) listener.close();
      for (const conn of [...ctx.open]) closeTracked(ctx.open, conn);
      await accepting;
      await Promise.all([...ctx.sessions]);
    },
  };
}

const usage = `Usage: deno run -A scripts/local/latency_proxy.ts --target HOST:PORT [options]

Forwards 127.0.0.1:<port> to the Postgres at HOST:PORT, adding a delay each way; Ctrl-C prints
the statement and round-trip counts.

Options:
  --target HOST:PORT  the Postgres server
  --port N            where to listen            default 54320 (0: any free port)
  --delay-ms N        added each way, ms         default 5
  -h, --help          show this help`;

const cliSchema = z.object({
  target: z.string().regex(/^[^:\s]+:\d{1,5}$/, "expected host:port"),
  port: z.coerce.number().int().min(0).max(65535).default(54320),
  delayMs: z.coerce.number().min(0).max(60_000).default(5),
});

/** Runs the proxy of `args` until Ctrl-C (resolves undefined while it serves). */
function main(args: string[]): number | undefined {
  const { values } = parseCommandLine(args, { strings: ["target", "port", "delay-ms"] });
  if (values.help) return showUsage(usage);
  const parsed = validateOptions(cliSchema, camelKeys(values));
  const [host, targetPort] = parsed.target.split(":") as [string, string];
  const proxy = startLatencyProxy({
    targetHost: host,
    targetPort: Number(targetPort),
    port: parsed.port,
    delayMs: parsed.delayMs,
  });
  console.log(
    `latency proxy 127.0.0.1:${proxy.port} → ${parsed.target}, +${parsed.delayMs} ms each way`,
  );
  Deno.addSignalListener("SIGINT", () => {
    console.log(JSON.stringify(proxy.stats(), null, 2));
    Deno.exit(0);
  });
  return undefined;
}

if (import.meta.main) await runMain(main, { usage });
