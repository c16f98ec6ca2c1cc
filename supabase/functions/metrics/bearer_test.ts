import { assertEquals } from "../../../tests/support/assert.ts";
import { secretsEqual } from "./bearer.ts";

Deno.test("secretsEqual() is true only for the identical secret", async () => {
  const secret = "s3cret-token-0123456789abcdef-XYZ";
  assertEquals(await secretsEqual(secret, secret), true);
  assertEquals(await secretsEqual(`${secret}x`, secret), false);
  assertEquals(await secretsEqual(secret.slice(0, -1), secret), false);
  assertEquals(await secretsEqual("", secret), false);
});
