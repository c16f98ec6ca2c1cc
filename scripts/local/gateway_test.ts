import { SignJWT } from "jose";
import { assertEquals } from "../../tests/support/assert.ts";
import { checkJwt, startGateway } from "./gateway.ts";
import { forwardedMethods, isForwarded, methodNotAllowed } from "./gateway_methods.ts";
import { freePort } from "./ports.ts";

const secret = new TextEncoder().encode("a-local-test-secret-with-32-characters!!");
const req = (auth?: string) =>
  new Request("http://x/", { headers: auth ? { authorization: auth } : {} });
const sign = (claims: Record<string, unknown>, key = secret) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(key);

Deno.test("checkJwt() accepts a valid HS256 token and rejects missing, malformed, forged and expired ones", async () => {
  const valid = await sign({ role: "anon" });
  assertEquals(await checkJwt(req(`Bearer ${valid}`), secret), undefined);
  for (const auth of [undefined, "Basic abc", `Bearer ${valid}x`]) {
    assertEquals((await checkJwt(req(auth), secret))?.status, 401, String(auth));
  }
  const forged = await sign(
    { role: "service_role" },
    new TextEncoder().encode("another-secret-of-at-least-32-characters"),
  );
  assertEquals((await checkJwt(req(`Bearer ${forged}`), secret))?.status, 401);
  const expired = await new SignJWT({ role: "anon" }).setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret);
  assertEquals((await checkJwt(req(`Bearer ${expired}`), secret))?.status, 401);
});

Deno.test("startGateway() sends a function's requests round robin over its running isolates", async () => {
  const jwtSecret = "a-local-test-secret-with-32-characters!!";
  const isolates = ["a", "b", "c"].map((id) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(id),
    );
    return { id, server, port: server.addr.port, up: true };
  });
  const routes = new Map([["fn", {
    verifyJwt: false,
    upstreams: isolates.map((i) => ({ port: i.port, alive: () => i.up })),
  }]]);
  const port = freePort();
  const gateway = startGateway({ port, jwtSecret, routes });
  const call = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/functions/v1/fn`);
    return res.status === 200 ? await res.text() : `${res.status} ${(await res.json()).error.code}`;
  };
  try {
    const first = [await call(), await call(), await call(), await call()];
    assertEquals(first, ["a", "b", "c", "a"]);
    isolates[2]!.up = false; // c stopped: skipped
    assertEquals([await call(), await call(), await call()], ["b", "a", "b"]);
    for (const i of isolates) i.up = false;
    assertEquals(await call(), "503 function_unavailable");
  } finally {
    await gateway.stop();
    await Promise.all(isolates.map((i) => i.server.shutdown()));
  }
});

Deno.test("checkJwt() accepts the Bearer scheme in any case", async () => {
  const valid = await sign({ role: "anon" });
  for (const scheme of ["bearer", "BEARER", "bEARER"]) {
    assertEquals(await checkJwt(req(`${scheme} ${valid}`), secret), undefined, scheme);
  }
});

Deno.test("checkJwt() refuses a validly signed service_role token without exp, naming the claim", async () => {
  const noExp = await new SignJWT({ role: "service_role" }).setProtectedHeader({ alg: "HS256" })
    .sign(secret);
  const denied = await checkJwt(req(`Bearer ${noExp}`), secret);
  assertEquals(denied?.status, 401);
  assertEquals((await denied!.json()).error.message, "Invalid JWT: token has no exp claim");
});

Deno.test("methodNotAllowed() answers 405 JSON with the methods the gateway forwards in Allow", async () => {
  for (const method of ["TRACE", "CONNECT", "TRACK", "PROPFIND"]) {
    assertEquals(isForwarded(method), false, method);
    const res = methodNotAllowed(method);
    assertEquals(res.status, 405);
    assertEquals(res.headers.get("allow"), forwardedMethods.join(", "));
    const body = await res.json();
    assertEquals(body.error.code, "method_not_allowed");
    assertEquals(body.error.message.startsWith(`${method} is not supported`), true);
  }
  for (const method of forwardedMethods) assertEquals(isForwarded(method), true, method);
  const odd = await methodNotAllowed("X<script>").json();
  assertEquals(odd.error.message.includes("<script>"), false);
});
