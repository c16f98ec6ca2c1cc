import { SignJWT } from "jose";
import { assertEquals } from "../../tests/support/assert.ts";
import { checkJwt } from "./gateway.ts";

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
