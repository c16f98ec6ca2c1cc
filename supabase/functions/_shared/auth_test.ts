import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { assertEquals, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { authOptions, createAuthVerifier, requireRole } from "./auth.ts";
import { ConfigError } from "./env.ts";
import { HttpError } from "./http_error.ts";

const secret = "test-secret-test-secret-test-secret-1234";
const now = new Date("2026-11-22T12:00:00Z");
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

function sign(claims: Record<string, unknown>, key = secret, exp = epoch(now) + 3600) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(exp).sign(new TextEncoder().encode(key));
}

const request = (token?: string) =>
  new Request("http://x/payment-methods", {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

async function status401(promise: Promise<unknown>): Promise<HttpError> {
  const error = await assertRejects(() => promise, HttpError);
  assertEquals(error.status, 401);
  assertEquals(new Headers(error.headers).get("www-authenticate")?.startsWith("Bearer"), true);
  return error;
}

Deno.test("createAuthVerifier() returns role, sub and claims of a valid HS256 token", async () => {
  const verify = createAuthVerifier({ jwtSecret: secret, now: () => now });
  const sub = crypto.randomUUID();
  const caller = await verify(request(await sign({ role: "authenticated", sub, email: "a@b.c" })));
  assertEquals([caller.role, caller.sub, caller.claims.email], ["authenticated", sub, "a@b.c"]);
  const anon = await verify(request(await sign({ role: "anon" })));
  assertEquals([anon.role, anon.sub], ["anon", undefined]);
});

Deno.test("createAuthVerifier() answers 401 for a missing, malformed, forged or expired token", async () => {
  const verify = createAuthVerifier({ jwtSecret: secret, now: () => now });
  const missing = await status401(verify(request()));
  assertEquals(missing.message, "missing authorization header");
  await status401(verify(new Request("http://x/", { headers: { authorization: "Basic abc" } })));
  await status401(verify(request("not-a-jwt")));
  const forgedToken = await sign(
    { role: "service_role" },
    "another-secret-another-secret-another-1",
  );
  const forged = await status401(verify(request(forgedToken)));
  assertEquals(forged.message.includes(forgedToken), false);
  const expired = await status401(
    verify(request(await sign({ role: "authenticated" }, secret, epoch(now) - 31))),
  );
  assertEquals(expired.message, "token expired");
  await status401(verify(request(await sign({ sub: "x" }))));
  const none = `${btoa('{"alg":"none"}').replace(/=+$/, "")}.${
    btoa('{"role":"service_role"}').replace(/=+$/, "")
  }.`;
  await status401(verify(request(none)));
});

Deno.test("createAuthVerifier() accepts the Bearer scheme in any case", async () => {
  const verify = createAuthVerifier({ jwtSecret: secret, now: () => now });
  const token = await sign({ role: "authenticated", sub: "u1" });
  for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
    const req = new Request("http://x/", { headers: { authorization: `${scheme} ${token}` } });
    assertEquals((await verify(req)).sub, "u1", scheme);
  }
});

Deno.test("createAuthVerifier() refuses a validly signed token without exp", async () => {
  const verify = createAuthVerifier({ jwtSecret: secret, now: () => now });
  const noExp = await new SignJWT({ role: "service_role" }).setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));
  const error = await status401(verify(request(noExp)));
  assertEquals(error.message, "token has no exp claim");
});

Deno.test("createAuthVerifier() verifies asymmetric tokens against the project's JWKS", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/auth/v1/.well-known/jwks.json"
        ? Response.json({ keys: [jwk] })
        : new Response("not found", { status: 404 }),
  );
  try {
    const options = authOptions({ SUPABASE_URL: `http://127.0.0.1:${server.addr.port}` });
    const verify = createAuthVerifier({ ...options, now: () => now });
    const token = await new SignJWT({ role: "authenticated", sub: "s1" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" }).setExpirationTime(epoch(now) + 60)
      .sign(privateKey);
    assertEquals((await verify(request(token))).sub, "s1");
    await status401(verify(request(await sign({ role: "authenticated" }))));
  } finally {
    await server.shutdown();
  }
  const unreachable = createAuthVerifier({
    jwksUrl: new URL(`http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`),
    now: () => now,
  });
  const token = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "ES256", kid: "k2" }).sign(privateKey);
  const error = await assertRejects(() => unreachable(request(token)), HttpError);
  assertEquals(error.status, 503);
});

Deno.test("authOptions() prefers JWT_SECRET, else the JWKS of SUPABASE_URL", () => {
  assertEquals(authOptions({ JWT_SECRET: secret, SUPABASE_URL: "http://h" }), {
    jwtSecret: secret,
  });
  assertEquals(
    authOptions({ SUPABASE_URL: "https://p.supabase.co" }).jwksUrl?.href,
    "https://p.supabase.co/auth/v1/.well-known/jwks.json",
  );
  assertThrows(() => authOptions({}), ConfigError, "neither JWT_SECRET nor SUPABASE_URL");
  assertThrows(() => authOptions({ JWT_SECRET: "short" }), ConfigError, "JWT_SECRET");
  assertThrows(() => createAuthVerifier({}), ConfigError);
});

Deno.test("requireRole() answers 403 for another role", () => {
  const caller = { role: "anon", claims: { role: "anon" } };
  requireRole(caller, "anon");
  const error = assertThrows(() => requireRole(caller, "service_role"), HttpError);
  assertEquals([error.status, error.code], [403, "forbidden"]);
});
