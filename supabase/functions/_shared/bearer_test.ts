import { assertEquals } from "../../../tests/support/assert.ts";
import { bearerToken } from "./bearer.ts";

Deno.test("bearerToken() reads RFC 6750 bearer credentials whatever the scheme's case", () => {
  assertEquals(bearerToken("Bearer abc.DEF-123_~+/="), "abc.DEF-123_~+/=");
  for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
    assertEquals(bearerToken(`${scheme} a.b.c`), "a.b.c", scheme);
  }
  assertEquals(bearerToken("Bearer \ta.b.c "), "a.b.c");
});

Deno.test("bearerToken() is undefined for a missing header, another scheme or a malformed token", () => {
  for (
    const header of [null, undefined, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b"]
  ) {
    assertEquals(bearerToken(header), undefined, String(header));
  }
  assertEquals(bearerToken("Bearera.b.c"), undefined);
  assertEquals(bearerToken("Bearer a=b"), undefined);
});
