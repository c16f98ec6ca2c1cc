import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { allowedK6Import, checkK6Scripts, importSpecifiers } from "./check_k6.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** Copies the `.js` files of `folder` (relative to the repository) to the same place under `to`. */
async function copyScripts(folder: string, to: string): Promise<void> {
  await Deno.mkdir(`${to}/${folder}`, { recursive: true });
  for (const entry of Deno.readDirSync(`${repoRoot}${folder}`)) {
    if (entry.isFile && entry.name.endsWith(".js")) {
      await Deno.copyFile(`${repoRoot}${folder}/${entry.name}`, `${to}/${folder}/${entry.name}`);
    }
  }
}

Deno.test("checkK6Scripts() type-checks tests/load against @types/k6 with only ES2020 in scope", async () => {
  const result = await checkK6Scripts();
  assertEquals(result.importProblems, []);
  assertEquals(result.output, "");
  assert(result.ok);
  assert(result.files.some((f) => f.endsWith("/baseline.js")) && result.files.length >= 10);
  assert(
    result.files.some((f) => f.endsWith("/scripts/load/workloads/k6_workload.js")),
    "the workloads the scripts import are checked too",
  );
});

Deno.test("checkK6Scripts() fails on a Node import, a Deno global, a newer API and a k6 misuse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await copyScripts("tests/load", dir);
    await copyScripts("scripts/load/workloads", dir);
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(
      `${dir}/tests/load/broken.js`,
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
    const result = await checkK6Scripts({ dir: `${dir}/tests/load` });
    assert(!result.ok);
    assertEquals(result.importProblems, [`${dir}/tests/load/broken.js: imports "node:fs"`]);
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
  assert(allowedK6Import("k6") && allowedK6Import("../workloads/workloads.js"));
  assert(!allowedK6Import("node:fs") && !allowedK6Import("zod") && !allowedK6Import("k6x"));
});
