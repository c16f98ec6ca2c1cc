/**
 * The local API gateway: `http://127.0.0.1:54321/functions/v1/<name>` routed to each function's
 * isolate, with JWT verification where config.toml says `verify_jwt = true`, as Supabase's
 * gateway does. A function served by several isolates gets its requests round robin over the
 * ones that are running, as a hosted project spreads them over its isolates. Every answer of its
 * own is a JSON error body: a malformed request (`http1_head.ts`), a method it does not forward
 * (`gateway_methods.ts`), a missing or bad JWT.
 *
 * @module
 */
import { jwtVerify } from "jose";
import { bearerToken } from "../../supabase/functions/_shared/bearer.ts";
import { jwtRejection, requiredJwtClaims } from "../../supabase/functions/_shared/jwt_rules.ts";
import { isForwarded, methodNotAllowed } from "./gateway_methods.ts";
import { serveHttp1 } from "./http1_server.ts";
import { RoundRobin } from "./round_robin.ts";

/** One isolate of a function: its loopback port and whether it still runs. */
export interface Upstream {
  port: number;
  alive(): boolean;
}

/** Where the gateway finds a function and whether it checks JWTs. */
export interface Route {
  verifyJwt: boolean;
  /** The function's isolates (at least one), used round robin. */
  upstreams: readonly Upstream[];
}

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  port: number;
  jwtSecret: string;
  /** Function name → route; read on every request so restarts can swap routes. */
  routes: ReadonlyMap<string, Route>;
  /** Upper bound on how long a function may take to answer. @default 60000 */
  upstreamTimeoutMs?: number;
}

/** A running gateway. */
export interface Gateway {
  readonly url: string;
  stop(): Promise<void>;
}

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function errorJson(
  status: number,
  code: string,
  message: string,
  headers: HeadersInit = {},
): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Verifies the bearer token of `req` with the HS256 `secret`, by the functions' own rules: the
 * scheme in any case, and a token without `exp` refused.
 *
 * @returns `undefined` when valid, else the 401 answer to send.
 */
export async function checkJwt(req: Request, secret: Uint8Array): Promise<Response | undefined> {
  const header = req.headers.get("authorization");
  const challenge = { "www-authenticate": 'Bearer realm="functions"' };
  if (!header) return errorJson(401, "unauthorized", "Missing authorization header", challenge);
  const token = bearerToken(header);
  if (token === undefined) {
    return errorJson(401, "unauthorized", "Authorization header must be 'Bearer <jwt>'", challenge);
  }
  try {
    await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      requiredClaims: [...requiredJwtClaims],
    });
    return undefined;
  } catch (error) {
    return errorJson(401, "unauthorized", `Invalid JWT: ${jwtRejection(error)}`, challenge);
  }
}

/** Starts the gateway on 127.0.0.1:`port`. */
export function startGateway(options: GatewayOptions): Gateway {
  const { port, jwtSecret, routes, upstreamTimeoutMs = 60_000 } = options;
  const secret = new TextEncoder().encode(jwtSecret);
  // Per function name, not per Route object: a restart swaps the route but keeps the turn.
  const cursors = new Map<string, RoundRobin>();
  const pick = (name: string, route: Route): Upstream | undefined => {
    let cursor = cursors.get(name);
    if (!cursor) cursors.set(name, cursor = new RoundRobin());
    return cursor.next(route.upstreams, (u) => u.alive());
  };

  const handler = async (req: Request): Promise<Response> => {
    if (!isForwarded(req.method)) return methodNotAllowed(req.method);
    const url = new URL(req.url);
    const match = /^\/functions\/v1\/([a-z0-9][a-z0-9_-]*)(\/.*)?$/i.exec(url.pathname);
    if (!match) {
      return errorJson(
        404,
        "not_found",
        `no route for ${url.pathname}; functions live under /functions/v1/<name>`,
      );
    }
    const name = match[1] ?? "";
    const route = routes.get(name);
    if (!route) {
      return errorJson(404, "function_not_found", `function '${name}' is not served here`);
    }
    if (req.method !== "OPTIONS" && route.verifyJwt) {
      const denied = await checkJwt(req, secret);
      if (denied) return denied;
    }
    const upstream = pick(name, route);
    if (!upstream) {
      return errorJson(503, "function_unavailable", `function '${name}' is not running`);
    }

    const headers = new Headers();
    for (const [key, value] of req.headers) if (!hopByHop.has(key)) headers.set(key, value);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    const target = `http://127.0.0.1:${upstream.port}/${name}${match[2] ?? ""}${url.search}`;
    // req.signal aborts only when the client goes away (deno.json opts in to Deno's
    // no-legacy-abort: without it the signal also fired after every successful response).
    const signal = AbortSignal.any([req.signal, AbortSignal.timeout(upstreamTimeoutMs)]);
    try {
      const upstream = await fetch(target, {
        method: req.method,
        headers,
        body: req.body,
        redirect: "manual",
        signal,
      });
      const out = new Headers();
      for (const [key, value] of upstream.headers) if (!hopByHop.has(key)) out.set(key, value);
      return new Response(upstream.body, { status: upstream.status, headers: out });
    } catch (error) {
      if (req.signal.aborted) return errorJson(499, "client_closed", "client closed the request");
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return errorJson(
          504,
          "function_timeout",
          `function '${name}' did not answer within ${upstreamTimeoutMs} ms`,
        );
      }
      return errorJson(502, "function_unreachable", `function '${name}' could not be reached`);
    }
  };

  // Our own HTTP/1.1 server, not Deno.serve: a malformed request gets a JSON answer naming the
  // problem instead of hyper's empty 400 (see http1_head.ts).
  const server = serveHttp1(
    { hostname: "127.0.0.1", port, onForbiddenMethod: methodNotAllowed },
    handler,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await server.shutdown();
    },
  };
}
