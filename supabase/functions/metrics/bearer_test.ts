import { assertEquals } from "../../../tests/support/assert.ts";
import { bearerToken, secretsEqual } from "./bearer.ts";

Deno.test("secretsEqual() is true only for the identical secret", async () => {
  const secret = "s3cret-token-0123456789abcdef-XYZ";
  assertEquals(await secretsEqual(secret, secret), true);
  assertEquals(await secretsEqual(`${secret}x`, secret), false);
  assertEquals(await secretsEqual(secret.slice(0, -1), secret), false);
  assertEquals(await secretsEqual("", secret), false);
});

Deno.test("bearerToken() reads RFC 6750 bearer credentials and nothing else", () => {
  assertEquals(bearerToken("Bearer abc.DEF-123_~+/="), "abc.DEF-123_~+/=");
  assertEquals(bearerToken("bearer abc"), "abc");
  assertEquals(bearerToken(null), undefined);
  assertEquals(bearerToken("Basic dXNlcjpwYXNz"), undefined);
  assertEquals(bearerToken("Bearer"), undefined);
  assertEquals(bearerToken("Bearer a b"), undefined);
});
