import { assertEquals, assertStringIncludes } from "../tests/support/assert.ts";

const start = new URL("./start.ts", import.meta.url).pathname;

async function run(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", start, ...args],
    env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("npm start --help describes the stack, the local rollout and --once", async () => {
  const { code, stdout } = await run("--help");
  assertEquals(code, 0);
  assertStringIncludes(stdout, "-e local --steps 10,50,100");
  assertStringIncludes(stdout, "--once");
  assertStringIncludes(stdout, "Ctrl-C during the rollout rolls the flag back");
});

Deno.test("npm start refuses a bad option with the usage and exit 2, starting nothing", async () => {
  for (const args of [["--bogus"], ["--port", "0x"], ["--seed-flights", "-1"], ["extra"]]) {
    const { code, stderr } = await run(...args);
    assertEquals(code, 2, args.join(" "));
    assertStringIncludes(stderr, "error: ");
    assertStringIncludes(stderr, "Usage: npm start");
  }
});
