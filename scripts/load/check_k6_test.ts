import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { allowedK6Import, checkK6Scripts, importSpecifiers } from "./check_k6.ts";

const loadDir = new URL("../../tests/load/", import.meta.url).pathname;

Deno.test("checkK6Scripts() type-checks tests/load against @types/k6 with only ES2020 in scope", async () => {
  const result = await checkK6Scripts();
  assertEquals(result.importProblems, []);
  assertEquals(result.output, "");
  assert(result.ok);
  assert(result.files.some((f) => f.endsWith("/baseline.js")) && result.files.length >= 10);
});

Deno.test("checkK6Scripts() fails on a Node import, a Deno global, a newer API and a k6 misuse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/load`);
    for (const entry of Deno.readDirSync(loadDir)) {
      if (entry.isFile) await Deno.copyFile(`${loadDir}${entry.name}`, `${dir}/load/${entry.name}`);
    }
    await Deno.mkdir(`${dir}/load/lib`);
    for (const entry of Deno.readDirSync(`${loadDir}lib`)) {
      await Deno.copyFile(`${loadDir}lib/${entry.name}`, `${dir}/load/lib/${entry.name}`);
    }
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(
      `${dir}/load/broken.js`,
      `// @ts-check
import { Counter } from "k6/metrics";
import fs from "node:fs";
const c = new Counter("x");
export default function () {
  c.add("one");
  Deno.exit(1);
  return [Object.hasOwn({}, "a"), fs];
}
`,
    );
    const result = await checkK6Scripts({ dir: `${dir}/load` });
    assert(!result.ok);
    assertEquals(result.importProblems, [`${dir}/load/broken.js: imports "node:fs"`]);
    assertStringIncludes(result.output, "Cannot find name 'Deno'");
    assertStringIncludes(result.output, "Property 'hasOwn' does not exist");
    assertStringIncludes(result.output, `Argument of type '"one"' is not assignable`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("importSpecifiers() finds static, dynamic and require imports", () => {
  const source =
    `import a from "k6/http";\nexport { b } from './lib/b.js';\nimport "./side.js";\n` +
    `const c = require("fs"); const d = await import("node:path");`;
  assertEquals(importSpecifiers(source), ["k6/http", "./lib/b.js", "./side.js", "fs", "node:path"]);
  assert(allowedK6Import("k6") && allowedK6Import("../scenarios.js"));
  assert(!allowedK6Import("node:fs") && !allowedK6Import("zod") && !allowedK6Import("k6x"));
});
