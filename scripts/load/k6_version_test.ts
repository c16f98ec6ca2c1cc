import { assertEquals } from "../../tests/support/assert.ts";
import { minimumK6Version, parseK6Version, supportsScripts } from "./k6_version.ts";

Deno.test("parseK6Version() reads the version from `k6 version` of v0 and v1 releases", () => {
  assertEquals(parseK6Version("k6 v0.53.0 (go1.22.5, linux/amd64)"), {
    major: 0,
    minor: 53,
    patch: 0,
  });
  assertEquals(
    parseK6Version("k6 v1.3.0 (commit/devel, go1.24.6, linux/amd64)\nExtensions: none"),
    { major: 1, minor: 3, patch: 0 },
  );
  assertEquals(parseK6Version("v0.53.0"), null);
  assertEquals(parseK6Version(""), null);
});

Deno.test("supportsScripts() accepts v0.53.0 and newer, rejects v0.52.x and older", () => {
  const v = (major: number, minor: number, patch: number) => ({ major, minor, patch });
  assertEquals(minimumK6Version, v(0, 53, 0));
  for (const ok of [v(0, 53, 0), v(0, 53, 1), v(0, 54, 0), v(1, 0, 0), v(1, 3, 0)]) {
    assertEquals(supportsScripts(ok), true, JSON.stringify(ok));
  }
  for (const old of [v(0, 52, 9), v(0, 49, 0), v(0, 9, 99)]) {
    assertEquals(supportsScripts(old), false, JSON.stringify(old));
  }
});
