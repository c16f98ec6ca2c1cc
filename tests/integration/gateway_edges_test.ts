/**
 * The gateway and auth edges of issue #13, against the real local stack — the gateway, the
 * functions in their own isolates, Postgres 17, the KMS endpoint — as an outside client sees
 * them: raw TCP for what `fetch` will not send (TRACE, CONNECT, a malformed head, a 100 KB header).
 */
import { SignJWT } from "jose";
import { startKmsServer } from "../../scripts/local/kms_server.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { rawExchange } from "../support/raw_http.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("gateway and auth edges through the real stack", opts, async (t) => {
  const db = await testDatabase();
  const kms = await startKmsServer({ https: true });
  const stack = await startStack({
    databaseUrl: db.url,
    port: 0,
    seedFlights: false,
    functions: ["health", "payment-methods", "flight-search"],
    env: kms.env,
  });
  const port = Number(new URL(stack.url).port);
  const secret = new TextEncoder().encode(stack.jwtSecret);
  const user = crypto.randomUUID();
  const userJwt = await new SignJWT({ role: "authenticated", sub: user, aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setExpirationTime("1h").sign(secret);
  const anon = { authorization: `Bearer ${stack.anonKey}` };
  try {
    await t.step("methods the gateway cannot forward: 405 JSON with Allow, never 502", async () => {
      for (
        const request of [
          `TRACE /functions/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
          `CONNECT /functions/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
          `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
          `PROPFIND /functions/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
        ]
      ) {
        const answer = await rawExchange(port, request);
        assertEquals(answer.status, 405, request);
        assertEquals(answer.headers.get("allow"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
        assertEquals(JSON.parse(answer.body).error.code, "method_not_allowed");
      }
      // A method the gateway forwards but the function does not serve: the function's Allow.
      const put = await fetch(`${stack.functionsUrl}/flight-search`, {
        method: "PUT",
        headers: anon,
      });
      assertEquals([put.status, put.headers.get("allow")], [405, "GET, POST, OPTIONS"]);
      assertEquals((await put.json()).error.code, "method_not_allowed");
    });

    await t.step("malformed requests: 4xx with a JSON body naming the problem", async () => {
      const big = `GET /functions/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${
        "a".repeat(100 * 1024)
      }\r\n\r\n`;
      const cases: [string, number, string][] = [
        [big, 431, "request_header_fields_too_large"],
        ["GET /functions/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nNo Colon\r\n\r\n", 400, ""],
        ["GARBAGE\r\n\r\n", 400, "malformed_request"],
        ["GET /functions/v1/health HTTP/1.1\r\n\r\n", 400, "malformed_request"],
      ];
      for (const [request, status, code] of cases) {
        const answer = await rawExchange(port, request);
        const what = JSON.stringify(request.slice(0, 50));
        assertEquals(answer.status, status, what);
        assert(answer.body.length > 0, `${what}: never an empty body`);
        const error = JSON.parse(answer.body).error;
        if (code) assertEquals(error.code, code, what);
        assert(error.message.length > 0, what);
      }
    });

    await t.step("the Bearer scheme in any case, at the gateway and in the function", async () => {
      for (const scheme of ["bearer", "BEARER", "Bearer"]) {
        const res = await fetch(`${stack.functionsUrl}/payment-methods`, {
          headers: { authorization: `${scheme} ${userJwt}` },
        });
        assertEquals(res.status, 200, scheme);
        assertEquals((await res.json()).payment_methods, []);
      }
    });

    await t.step("a validly signed JWT without exp is refused", async () => {
      const noExp = await new SignJWT({ role: "service_role" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret);
      for (const path of ["health", "payment-methods", "flight-search/stats"]) {
        const res = await fetch(`${stack.functionsUrl}/${path}`, {
          headers: { authorization: `Bearer ${noExp}` },
        });
        assertEquals(res.status, 401, path);
        assertEquals((await res.json()).error.message, "Invalid JWT: token has no exp claim");
      }
    });

    await t.step(
      "a 12-digit Luhn-valid card number: 400 naming the field, nothing stored",
      async () => {
        const res = await fetch(`${stack.functionsUrl}/payment-methods`, {
          method: "POST",
          headers: { authorization: `Bearer ${userJwt}`, "content-type": "application/json" },
          body: JSON.stringify({
            number: "411111111117",
            exp_month: 1,
            exp_year: 2099,
            holder_name: "A B",
          }),
        });
        assertEquals(res.status, 400);
        const error = (await res.json()).error;
        assertEquals([error.code, error.field], ["invalid_request", "number"]);
        assert(!JSON.stringify(error).includes("411111111117"));
        const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from public.payment_methods`;
        assertEquals(row!.n, 0);
        assertEquals(kms.requests(), 0, "refused before any KMS call");
      },
    );

    await t.step(
      "an unknown airport: 400 naming the field; a known route still answers",
      async () => {
        const [route] = await popularRoutes(db.sql, 1);
        const date = route!.departureDate;
        const search = (origin: string, destination: string) =>
          fetch(
            `${stack.functionsUrl}/flight-search?origin=${origin}&destination=${destination}&departure_date=${date}`,
            { headers: anon },
          );
        for (
          const [origin, destination, field] of [
            ["ZZZ", route!.destination, "origin"],
            [route!.origin, "ZZZ", "destination"],
          ]
        ) {
          const res = await search(origin!, destination!);
          assertEquals(res.status, 400, `${origin}-${destination}`);
          const error = (await res.json()).error;
          assertEquals([error.code, error.field], ["invalid_request", field]);
          assertEquals(error.message, `${field}: no airport with IATA code ZZZ`);
        }
        const ok = await search(route!.origin, route!.destination);
        assertEquals(ok.status, 200);
        assert((await ok.json()).outbound.flights.length > 0);
      },
    );
  } finally {
    await stack.stop();
    await kms.stop();
    await db.drop();
  }
});
