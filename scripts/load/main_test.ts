import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../tests/support/assert.ts";
import { startSearchHeaderServer } from "./_search_header_server.ts";
import { reportsDir } from "../local/paths.ts";
import { UsageError } from "../_cli/errors.ts";
import { parseLoadArgs } from "./main.ts";
import { readLoadSummary } from "./summary.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const env = { SUPABASE_URL: "http://127.0.0.1:54321", SUPABASE_ANON_KEY: "key" };

Deno.test("parseLoadArgs() takes flags, falls back to the environment, defaults the output", () => {
  const cli = parseLoadArgs(["--scenario", "soak", "--duration", "2m", "--rate", "5"], env);
  assertEquals(cli.out, `${reportsDir}/load/soak.json`);
  assertEquals(cli.options.baseUrl, env.SUPABASE_URL);
  assertEquals(cli.options.durationS, 120);
  assertEquals(cli.options.rate, 5);
  assertEquals(
    parseLoadArgs(["--scenario", "baseline", "--base-url", "http://h:1", "--out", "x.json"], env)
      .options.baseUrl,
    "http://h:1",
  );
  assertEquals(parseLoadArgs(["-h"], {}).help, true);
});

Deno.test("parseLoadArgs() names the flag at fault", () => {
  const cases: [string[], Record<string, string>, string][] = [
    [[], env, "--scenario is required"],
    [["--scenario", "smoke"], env, "--scenario"],
    [["--scenario", "baseline"], {}, "--base-url (or SUPABASE_URL)"],
    [["--scenario", "baseline"], { SUPABASE_URL: "http://h" }, "--anon-key (or SUPABASE_ANON_KEY)"],
    [["--scenario", "baseline", "--duration", "10"], env, "--duration"],
    [["--scenario", "baseline", "--vus", "many"], env, "--vus"],
    [["--scenario", "baseline", "--rate", "3"], env, "rate:"],
    [["--scenario", "baseline", "--gate-level", "loud"], env, "--gate-level"],
    [["--scenario", "baseline", "--bogus"], env, "bogus"],
  ];
  for (const [args, e, text] of cases) {
    assertStringIncludes(assertThrows(() => parseLoadArgs(args, e), UsageError).message, text);
  }
});

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname, ...args],
    env: { SUPABASE_URL: "", SUPABASE_ANON_KEY: "", ROUTES_FILE: "", ...extraEnv },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

Deno.test(
  "load CLI: exits 2 on a bad option, 0 when thresholds hold, 99 when one fails",
  opts,
  async () => {
    const bad = await cli(["--scenario", "baseline", "--vus", "0"], env);
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.stderr, "--vus");
    assert(!bad.stderr.includes("    at "), `no stack trace:\n${bad.stderr}`);

    const dir = await Deno.makeTempDir();
    const routesFile = `${dir}/routes.json`;
    await Deno.writeTextFile(
      routesFile,
      JSON.stringify({
        routes: [{ origin: "AAA", destination: "BBB", departureDate: "2027-01-05" }],
      }),
    );
    const healthy = startSearchHeaderServer({ anonKey: "key" });
    const failing = startSearchHeaderServer({ anonKey: "key", failEvery: 2 });
    try {
      const common = ["--scenario", "baseline", "--duration", "1s", "--vus", "2"];
      const ok = await cli([...common, "--out", `${dir}/ok.json`], {
        SUPABASE_URL: healthy.url,
        SUPABASE_ANON_KEY: "key",
        ROUTES_FILE: routesFile,
      });
      assertEquals(ok.code, 0, ok.stderr);
      assertStringIncludes(ok.stdout, "✓ server_errors");
      const written = await readLoadSummary(`${dir}/ok.json`);
      assertEquals(written.meta.workload, "baseline");
      assert((written.metrics.http_reqs?.values.count ?? 0) > 0);

      const fail = await cli(
        [...common, "--out", `${dir}/fail.json`, "--routes-file", routesFile],
        {
          SUPABASE_URL: failing.url,
          SUPABASE_ANON_KEY: "key",
        },
      );
      assertEquals(fail.code, 99, fail.stderr);
      assertStringIncludes(fail.stdout, "✗ server_errors");
    } finally {
      await healthy.close();
      await failing.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
