import { SignJWT } from "jose";
import { assertEquals } from "../../tests/support/assert.ts";
import { checkJwt, startGateway } from "./gateway.ts";
import { freePort } from "./ports.ts";

const secret = new TextEncoder().encode("a-local-test-secret-with-32-characters!!");
const req = (auth?: string) =>
  new Request("http://x/", { headers: auth ? { authorization: auth } : {} });

Deno.test("checkJwt() accepts a valid HS256 token and rejects missing, malformed, forged and expired ones", async () => {
  const valid = await new SignJWT({ role: "anon" }).setProtectedHeader({ alg: "HS256" }).sign(
    secret,
  );
  assertEquals(await checkJwt(req(`Bearer ${valid}`), secret), undefined);
  for (const auth of [undefined, "Basic abc", `Bearer ${valid}x`]) {
    assertEquals((await checkJwt(req(auth), secret))?.status, 401, String(auth));
  }
  const forged = await new SignJWT({ role: "service_role" }).setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode("another-secret-of-at-least-32-characters"));
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
