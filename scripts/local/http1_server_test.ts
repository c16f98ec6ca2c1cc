import { assert, assertEquals } from "../../tests/support/assert.ts";
import { rawExchange } from "../../tests/support/raw_http.ts";
import { serveHttp1 } from "./http1_server.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A server echoing what it saw; `signals` collects each request's abort signal. */
function echoServer() {
  const signals: AbortSignal[] = [];
  const failures: unknown[] = [];
  const options = { hostname: "127.0.0.1", port: 0, onError: (e: unknown) => failures.push(e) };
  const server = serveHttp1(options, async (req) => {
    signals.push(req.signal);
    const url = new URL(req.url);
    if (url.pathname === "/slow") {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return new Response("late");
    }
    if (url.pathname === "/stream") {
      const parts = ["a", "bc", "def"].map((s) => new TextEncoder().encode(s));
      return new Response(
        new ReadableStream({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      );
    }
    if (url.pathname === "/throw") throw new Error("a bug");
    return Response.json({
      method: req.method,
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      body: req.body ? await req.text() : null,
    }, { headers: { "x-served": "yes" } });
  });
  return { server, signals, failures, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test(
  "serveHttp1() serves fetch clients: keep-alive, bodies by length and chunked, streams",
  opts,
  async () => {
    const { server, url, failures } = echoServer();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/x?i=${i}`, { headers: { authorization: "bearer t" } });
        assertEquals(res.status, 200);
        assertEquals(res.headers.get("x-served"), "yes");
        assertEquals(await res.json(), {
          method: "GET",
          path: `/x?i=${i}`,
          auth: "bearer t",
          body: null,
        });
      }
      const big = "x".repeat(200_000);
      const posted = await fetch(`${url}/p`, { method: "POST", body: big });
      assertEquals((await posted.json()).body.length, big.length);
      const streamed = await fetch(`${url}/p`, {
        method: "PUT",
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("hel"));
            c.enqueue(new TextEncoder().encode("lo"));
            c.close();
          },
        }),
      });
      assertEquals((await streamed.json()).body, "hello");
      assertEquals(await (await fetch(`${url}/stream`)).text(), "abcdef");
      const head = await fetch(`${url}/x`, { method: "HEAD" });
      assertEquals([head.status, await head.text()], [200, ""]);
      const bug = await fetch(`${url}/throw`);
      assertEquals([bug.status, (await bug.json()).error.code], [500, "internal_error"]);
      assertEquals(failures.length, 1, "the handler's failure is reported, not echoed");
    } finally {
      await server.shutdown();
    }
  },
);

Deno.test(
  "serveHttp1() answers every malformed request with a JSON body naming the problem",
  opts,
  async () => {
    const { server, signals } = echoServer();
    const port = server.addr.port;
    try {
      const cases: [string, number, string][] = [
        ["GARBAGE\r\n\r\n", 400, "malformed_request"],
        ["CONNECT /functions/v1/health HTTP/1.1\r\nHost: a\r\n\r\n", 405, "method_not_allowed"],
        [
          "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
          405,
          "method_not_allowed",
        ],
        ["TRACE /x HTTP/1.1\r\nHost: a\r\n\r\n", 405, "method_not_allowed"],
        [
          `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`,
          431,
          "request_header_fields_too_large",
        ],
        [
          `GET /${"a".repeat(100 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`,
          431,
          "request_header_fields_too_large",
        ],
        ["GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", 400, "malformed_request"],
        ["GET /x HTTP/9.9\r\nHost: a\r\n\r\n", 505, "http_version_not_supported"],
        [
          "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          400,
          "malformed_request",
        ],
        [
          "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
          400,
          "malformed_request",
        ],
      ];
      for (const [request, status, code] of cases) {
        const answer = await rawExchange(port, request);
        const what = JSON.stringify(request.slice(0, 60));
        assertEquals(answer.status, status, what);
        assert(answer.headers.get("content-type")?.startsWith("application/json"), what);
        const body = JSON.parse(answer.body);
        assertEquals(body.error.code, code, what);
        assert(body.error.message.length > 0, what);
        assertEquals(answer.closed, true, `${what}: the connection is closed after a refusal`);
      }
      // Only the two broken chunked bodies reached the handler; the rest were refused before it.
      assertEquals(signals.length, 2);
    } finally {
      await server.shutdown();
    }
  },
);

Deno.test(
  "serveHttp1() serves pipelined requests in order and aborts req.signal when the client leaves",
  opts,
  async () => {
    const { server, signals } = echoServer();
    const port = server.addr.port;
    try {
      const answer = await rawExchange(
        port,
        "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      );
      assertEquals(answer.status, 200);
      assertEquals(answer.raw.split("HTTP/1.1 200 OK").length, 3, answer.raw);
      assert(answer.raw.indexOf("late") < answer.raw.indexOf('"/second"'), answer.raw);
      assertEquals(answer.closed, true);

      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      conn.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertEquals(signals.at(-1)?.aborted, true, "the client went away mid-request");
      assertEquals(signals[0]?.aborted, false, "a request answered in full is never aborted");
    } finally {
      await server.shutdown();
    }
  },
);

Deno.test(
  "serveHttp1() closes an idle connection after headTimeoutMs and a half-sent head with 408",
  opts,
  async () => {
    const server = serveHttp1(
      { hostname: "127.0.0.1", port: 0, headTimeoutMs: 200 },
      () => new Response("ok"),
    );
    try {
      const partial = await rawExchange(server.addr.port, "GET / HTTP/1.1\r\nHost: a\r\n", 3000);
      assertEquals([partial.status, JSON.parse(partial.body).error.code], [408, "request_timeout"]);
      const idle = await rawExchange(server.addr.port, "", 3000);
      assertEquals([idle.status, idle.closed], [0, true]);
    } finally {
      await server.shutdown();
    }
  },
);
