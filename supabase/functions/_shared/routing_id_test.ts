import { SignJWT } from "jose";
import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { HttpError } from "./http_error.ts";
import { routingId } from "./routing_id.ts";

const secret = new TextEncoder().encode("a-test-secret-a-test-secret-a-test-secret");
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(secret);
const req = (headers: Record<string, string>) => new Request("http://x/", { headers });

Deno.test("routingId() uses the JWT subject of a signed-in user", async () => {
  const jwt = await token({ sub: "7f0c1c9e-0c1d-4a4e-9e43-2f4b7c1d2e3f", role: "authenticated" });
  assertEquals(routingId(req({ authorization: `Bearer ${jwt}`, "x-session-id": "ignored-1" })), {
    id: "7f0c1c9e-0c1d-4a4e-9e43-2f4b7c1d2e3f",
    source: "user",
  });
});

Deno.test("routingId() falls back to the session header for an anon key", async () => {
  const anon = await token({ role: "anon", iss: "supabase-demo" });
  assertEquals(
    routingId(req({ authorization: `Bearer ${anon}`, "x-session-id": "sess_0123456789" })),
    { id: "sess_0123456789", source: "session" },
  );
});

Deno.test("routingId() uses a random id when there is neither", async () => {
  const anon = await token({ role: "anon" });
  assertEquals(routingId(req({ authorization: `Bearer ${anon}` }), () => "r1"), {
    id: "r1",
    source: "random",
  });
  assertEquals(routingId(req({ authorization: "Bearer not-a-jwt" }), () => "r2").source, "random");
  assertEquals(routingId(req({}), () => "r3").id, "r3");
});

Deno.test("routingId() answers 400 to a malformed session header", () => {
  for (const bad of ["short", "x".repeat(129), "has space 123", "ünïcode-123"]) {
    const error = assertThrows(() => routingId(req({ "x-session-id": bad })), HttpError);
    assertEquals([error.status, error.field], [400, "x-session-id"]);
  }
});
