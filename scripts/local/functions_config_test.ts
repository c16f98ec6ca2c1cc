import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { discoverFunctions } from "./functions_config.ts";
import { supabaseDir } from "./paths.ts";

async function fixture(config: string, functions: string[]): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.toml`, config);
  for (const name of functions) {
    await Deno.mkdir(`${dir}/functions/${name}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/functions/${name}/index.ts`, "");
  }
  return dir;
}

Deno.test("discoverFunctions() skips _shared and reads verify_jwt with Supabase's default of true", async () => {
  const dir = await fixture(
    "[functions.open]\nverify_jwt = false\n[functions.off]\nenabled = false\n",
    ["_shared", "open", "closed", "off"],
  );
  try {
    const specs = await discoverFunctions(dir);
    assertEquals(specs.map((s) => [s.name, s.verifyJwt]), [["closed", true], ["open", false]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("discoverFunctions() names config.toml when it is malformed", async () => {
  const dir = await fixture("[functions.x\n", []);
  try {
    await assertRejects(() => discoverFunctions(dir), Error, "config.toml is not valid TOML");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("discoverFunctions() finds every function of this project with a config block", async () => {
  const specs = await discoverFunctions(supabaseDir);
  const config = await Deno.readTextFile(`${supabaseDir}/config.toml`);
  for (const spec of specs) {
    assertEquals(
      config.includes(`[functions.${spec.name}]`),
      true,
      `missing [functions.${spec.name}] in config.toml`,
    );
  }
});
