/**
 * A small HTTP/1.1 server for the local gateway: `Deno.serve`'s contract (a handler from `Request`
 * to `Response`, `req.signal` aborted when the client goes away) on a parser of our own, so that
 * every refused request gets a JSON body naming the problem (see `http1_head.ts` for why
 * `Deno.serve` cannot give one).
 *
 * Per connection, requests are served one after another (pipelined requests wait their turn).
 * Bodies are framed by Content-Length or chunked coding on both sides; a response without a
 * length is sent chunked. The methods `Request` cannot carry (CONNECT, TRACE, TRACK) are answered
 * by `onForbiddenMethod` without a handler call.
 *
 * @module
 */
import {
  headEnd,
  type HeadLimits,
  headTooLarge,
  parseRequestHead,
  refusalBytes,
  type RequestHead,
  RequestRefused,
} from "./http1_head.ts";
import { type BodyState, bodyStream, ConnReader } from "./http1_reader.ts";
import { writeAll, writeResponse } from "./http1_response.ts";

/** Options for {@link serveHttp1}. */
export interface Http1ServerOptions extends HeadLimits {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** A connection with no complete head for this long is closed (408 if a head had begun). @default 60000 */
  headTimeoutMs?: number;
  /** The answer to CONNECT, TRACE or TRACK. @default a 405 JSON error */
  onForbiddenMethod?: (method: string) => Response;
  /** Told about handler failures (answered 500). @default console.error */
  onError?: (error: unknown) => void;
}

/** A running server. */
export interface Http1Server {
  readonly addr: Deno.NetAddr;
  /** Stops accepting, lets requests in flight finish, closes every connection. */
  shutdown(): Promise<void>;
}

/** A request handler, as for `Deno.serve`. */
export type Http1Handler = (req: Request) => Response | Promise<Response>;

const forbiddenMethods = new Set(["CONNECT", "TRACE", "TRACK"]);
const clientGone = () => new DOMException("client closed the connection", "AbortError");
const encoder = new TextEncoder();
/** How long and how much a refused client may go on sending before the connection closes. */
const lingerMs = 1000;
const lingerBytes = 1 << 20;

/**
 * Ends our side, then reads and drops what the client still sends for a moment before the close:
 * closing a socket with unread input sends a reset, which can destroy the answer just written
 * before the client reads it (a client still sending a 100 KB header, say).
 */
async function lingeringClose(conn: Deno.Conn, reader: ConnReader): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    return;
  }
  const deadline = Date.now() + lingerMs;
  let dropped = 0;
  while (Date.now() < deadline && dropped < lingerBytes) {
    const timer = setTimeout(() => {
      try {
        conn.close();
      } catch { /* already closed */ }
    }, Math.max(1, deadline - Date.now()));
    const more = await reader.fill();
    clearTimeout(timer);
    if (!more) return;
    dropped += reader.available;
    reader.take(reader.available);
  }
}

/** What the server tracks of a connection. */
interface ConnState {
  busy: boolean;
  /** When the connection began waiting for its next head (performance.now()). */
  waitingSince: number;
  timedOut: boolean;
  reader: ConnReader;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Reads until a head is complete; undefined when the client went away before sending one. */
async function readHead(
  reader: ConnReader,
  limits: HeadLimits,
): Promise<RequestHead | undefined> {
  const maxHeadBytes = limits.maxHeadBytes ?? 32 * 1024;
  for (;;) {
    const view = reader.buffer.subarray(reader.start, reader.end);
    const end = headEnd(view, view.length);
    if (end >= 0) {
      const head = parseRequestHead(view.subarray(0, end), limits);
      reader.start += end;
      return head;
    }
    if (view.length > maxHeadBytes) throw headTooLarge(limits);
    if (!(await reader.fill())) {
      if (reader.available > 0) {
        throw new RequestRefused(400, "malformed_request", "the request head ended early");
      }
      return undefined;
    }
  }
}

function requestFor(
  head: RequestHead,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [name, value] of head.headers) headers.append(name, value);
  const url = /^https?:\/\//i.test(head.target)
    ? head.target
    : `http://${head.host || "localhost"}${head.target === "*" ? "/" : head.target}`;
  try {
    return new Request(url, {
      method: head.method,
      headers,
      body,
      signal,
      duplex: "half",
    } as RequestInit);
  } catch {
    throw new RequestRefused(400, "malformed_request", "malformed request target or header");
  }
}

/** What every connection of one server shares: its settings and its connections. */
interface ServerContext {
  limits: HeadLimits;
  onForbiddenMethod: (method: string) => Response;
  onError: (error: unknown) => void;
  handler: Http1Handler;
  /** Per connection: serving a request, or waiting for a head since `waitingSince`. */
  connections: Map<Deno.Conn, ConnState>;
  /** Set once by `shutdown()`. */
  closing: boolean;
}

function malformedResponse(message: string): Response {
  return Response.json({ error: { code: "malformed_request", message } }, { status: 400 });
}

/** Closes the connections waiting too long for a head, answering 408 when a head had begun. */
function sweepHeadTimeouts(connections: Map<Deno.Conn, ConnState>, headTimeoutMs: number): void {
  const now = performance.now();
  for (const [conn, state] of connections) {
    if (state.busy || state.timedOut || now - state.waitingSince < headTimeoutMs) continue;
    state.timedOut = true;
    if (state.reader.available > 0) {
      const late = new RequestRefused(
        408,
        "request_timeout",
        `no complete request head within ${headTimeoutMs} ms`,
      );
      writeAll(conn, refusalBytes(late)).catch(() => {}).finally(() => closeQuietly(conn));
    } else closeQuietly(conn);
  }
}

/** Serves one connection's requests in turn until it closes, times out or the server shuts down. */
async function serveConnection(conn: Deno.TcpConn, server: ServerContext): Promise<void> {
  conn.setNoDelay(true);
  const reader = new ConnReader(conn);
  const state: ConnState = {
    busy: false,
    waitingSince: performance.now(),
    timedOut: false,
    reader,
  };
  server.connections.set(conn, state);
  try {
    while (!server.closing) {
      state.waitingSince = performance.now();
      const head = await readHead(reader, server.limits);
      if (head === undefined || state.timedOut) return;
      state.busy = true;
      const keepAlive = await serveRequest(conn, reader, head, server);
      state.busy = false;
      if (!keepAlive) return;
    }
  } catch (error) {
    if (error instanceof RequestRefused) {
      await writeAll(conn, refusalBytes(error)).catch(() => {});
      await lingeringClose(conn, reader);
    }
  } finally {
    server.connections.delete(conn);
    closeQuietly(conn);
  }
}

/** A request's body as the handler sees it, and when it is read to its end or broken. */
interface RequestBody {
  hasBody: boolean;
  state: BodyState;
  settled: Promise<void>;
  stream: ReadableStream<Uint8Array> | null;
}

/** Frames the request's body and sends `100 Continue` if the client waits for it. */
async function openBody(
  conn: Deno.Conn,
  reader: ConnReader,
  head: RequestHead,
): Promise<RequestBody> {
  const hasBody = head.chunked || (head.contentLength ?? 0) > 0;
  const bodySettled = Promise.withResolvers<void>();
  const state: BodyState = { done: !hasBody, settled: () => bodySettled.resolve() };
  if (!hasBody) bodySettled.resolve();
  const stream = hasBody ? bodyStream(reader, head, state) : null;
  if (hasBody && head.expectContinue) {
    await writeAll(conn, encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
  }
  return { hasBody, state, settled: bodySettled.promise, stream };
}

/**
 * Once the body is read, a read that ends means the client went away (a body that ends early
 * says the same): aborts the handler's work, as Deno.serve's req.signal does.
 */
async function watchClientGone(
  reader: ConnReader,
  body: RequestBody,
  aborter: AbortController,
  finished: () => boolean,
): Promise<void> {
  await body.settled;
  if (body.state.error && reader.eof) return aborter.abort(clientGone());
  while (!finished() && !body.state.error && reader.available < 64 * 1024) {
    if (!(await reader.fill())) {
      if (!finished()) aborter.abort(clientGone());
      return;
    }
  }
}

/** The handler's answer, or the JSON error standing for it (400 for a broken body, else 500). */
async function handlerResponse(
  req: Request,
  body: BodyState,
  server: ServerContext,
): Promise<Response> {
  let res: Response;
  try {
    res = await server.handler(req);
  } catch (error) {
    if (body.error) {
      res = malformedResponse(body.error.message);
    } else {
      server.onError(error);
      res = Response.json({ error: { code: "internal_error", message: "internal error" } }, {
        status: 500,
      });
    }
  }
  if (body.error) {
    await res.body?.cancel();
    res = malformedResponse(body.error.message);
  }
  return res;
}

/** Serves one request; true when the connection may carry the next one. */
async function serveRequest(
  conn: Deno.Conn,
  reader: ConnReader,
  head: RequestHead,
  server: ServerContext,
): Promise<boolean> {
  if (forbiddenMethods.has(head.method.toUpperCase())) {
    // Nothing after such a request is framed the way we could trust: close after answering.
    await writeResponse(conn, server.onForbiddenMethod(head.method), head.method, false);
    await lingeringClose(conn, reader);
    return false;
  }
  const body = await openBody(conn, reader, head);
  const aborter = new AbortController();
  const bodyless = head.method === "GET" || head.method === "HEAD";
  const req = requestFor(head, bodyless ? null : body.stream, aborter.signal);
  let finished = false;
  if (!(bodyless && body.hasBody)) watchClientGone(reader, body, aborter, () => finished);
  const res = await handlerResponse(req, body.state, server);
  let keepAlive = head.keepAlive && !server.closing;
  try {
    keepAlive = await writeResponse(conn, res, head.method, keepAlive);
  } finally {
    finished = true;
  }
  // A body the handler left unread (a 401 before the upload, say) is not drained: its sender
  // may never finish it. The connection closes instead, as after a broken body.
  return keepAlive && body.state.done && !body.state.error && !aborter.signal.aborted;
}

/**
 * Serves `handler` on `hostname:port` over HTTP/1.1.
 *
 * @example
 * ```ts
 * const server = serveHttp1({ hostname: "127.0.0.1", port: 0 }, () => Response.json({ ok: true }));
 * // curl -H "X-Big: <100 KB>" → 431 {"error":{"code":"request_header_fields_too_large",…}}
 * await server.shutdown();
 * ```
 */
export function serveHttp1(options: Http1ServerOptions, handler: Http1Handler): Http1Server {
  const {
    hostname,
    port,
    headTimeoutMs = 60_000,
    onForbiddenMethod = (method) =>
      Response.json({
        error: { code: "method_not_allowed", message: `${method} is not supported` },
      }, {
        status: 405,
      }),
    onError = (error) => console.error("http1 server: handler failed:", error),
  } = options;
  const limits: HeadLimits = {
    ...(options.maxHeadBytes !== undefined ? { maxHeadBytes: options.maxHeadBytes } : {}),
    ...(options.maxHeaders !== undefined ? { maxHeaders: options.maxHeaders } : {}),
  };
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  const server: ServerContext = {
    limits,
    onForbiddenMethod,
    onError,
    handler,
    connections: new Map(),
    closing: false,
  };
  const served = new Set<Promise<void>>();

  // One sweep for every connection's head timeout: a timer per request costs more than it saves.
  const sweep = setInterval(
    () => sweepHeadTimeouts(server.connections, headTimeoutMs),
    Math.max(10, Math.min(1000, headTimeoutMs / 4)),
  );

  (async () => {
    for await (const conn of listener) {
      const done = serveConnection(conn as Deno.TcpConn, server).catch(() => {});
      served.add(done);
      done.finally(() => served.delete(done));
    }
  })().catch(() => {});

  return {
    addr: listener.addr as Deno.NetAddr,
    async shutdown() {
      if (server.closing) return;
      server.closing = true;
      clearInterval(sweep);
      listener.close();
      for (const [conn, state] of server.connections) {
        if (!state.busy) closeQuietly(conn);
      }
      await Promise.allSettled([...served]);
    },
  };
}
