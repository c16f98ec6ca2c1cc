/**
 * The command line as a person runs it: every invalid option or configuration exits 2 with a
 * message and does nothing.
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { main } from "../../scripts/rollout/main.ts";

const script = `${repoRoot}/scripts/deploy-performance-optimizations.sh`;

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(script, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("deploy-performance-optimizations.sh -h prints the usage and exits 0", async () => {
  const { code, stdout } = await run(["-h"]);
  assertEquals(code, 0);
  assertStringIncludes(
    stdout,
    "Usage: scripts/deploy-performance-optimizations.sh -e <environment> -t <percent>",
  );
  assertStringIncludes(
    stdout,
    "Exit codes: 0 promoted, 1 rolled back, 2 usage or configuration error, 3 precondition failed",
  );
  const flags = await run(["flags", "--help"]);
  assertEquals(flags.code, 0);
  assertStringIncludes(flags.stdout, "sync --from-file | --to-file");
});

Deno.test("deploy-performance-optimizations.sh exits 2 with a message for invalid options", async () => {
  const cases: [string[], string][] = [
    [
      ["-e", "qa", "-t", "25"],
      `--environment must be one of local, staging, production, received "qa"`,
    ],
    [["-e", "local", "-t", "0"], "--traffic must be 1..100"],
    [["-e", "local", "-t", "25", "--monitor", "soon"], "expected a duration"],
    [
      ["flags", "set", "flight_search_optimization", "-e", "local", "--traffic", "5"],
      "flags set needs --reason",
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await run(args);
    assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
    assertStringIncludes(stderr, message);
    assertStringIncludes(stderr, "Usage:");
    assertEquals(stdout, "", "nothing was started");
  }
});

Deno.test("deploy-performance-optimizations.sh exits 2 naming a missing environment variable", async () => {
  const { code, stdout, stderr } = await run(["-e", "staging", "-t", "25"], {
    PATH: Deno.env.get("PATH") ?? "",
  });
  assertEquals(code, 2, stderr + stdout);
  assertStringIncludes(stdout + stderr, "environment staging: STAGING_PROJECT_REF is not set");
  assertStringIncludes(stderr, "Usage:");
});

Deno.test("deploy-performance-optimizations.sh writes its deployment log under REPORTS_DIR", async () => {
  const reports = await Deno.makeTempDir({ prefix: "pf-reports-dir-" });
  try {
    // A staging target whose database does not answer: the deploy stops at its precondition
    // (exit 3) and still logs the attempt.
    const { code, stdout, stderr } = await run(["-e", "staging", "-t", "25"], {
      PATH: Deno.env.get("PATH") ?? "",
      REPORTS_DIR: reports,
      STAGING_PROJECT_REF: "abcdefghijklmnopqrst",
      STAGING_DB_URL: "postgresql://postgres:postgres@127.0.0.1:9/postgres",
      STAGING_SUPABASE_URL: "http://127.0.0.1:9",
      STAGING_SUPABASE_ANON_KEY: "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl",
    });
    assertEquals(code, 3, stdout + stderr);
    const logs = [...Deno.readDirSync(`${reports}/deployments`)].map((e) => e.name).sort();
    assertEquals(logs.length, 2, logs.join());
    assert(logs.some((n) => n.endsWith(".md")) && logs.some((n) => n.endsWith(".json")));
    assertStringIncludes(stdout + stderr, `${reports}/deployments/`);
  } finally {
    await Deno.remove(reports, { recursive: true });
  }
});

/** Every option mistake in-process: exit 2, a message naming the option, and no side effect. */
Deno.test("main() exits 2 for every invalid command line and does nothing", async () => {
  const reports = await Deno.makeTempDir();
  const cases: string[][] = [
    [],
    ["-t", "25"],
    ["-e", "local"],
    ["-e", "local", "-t", "101"],
    ["-e", "local", "-t", "x"],
    ["-e", "local", "-t", "10", "--steps", "5,20"],
    ["-e", "local", "--steps", "30,20"],
    ["-e", "local", "-t", "10", "--interval", "1m", "--monitor", "30s"],
    ["-e", "local", "-t", "10", "--threshold", "0"],
    ["-e", "local", "-t", "10", "--bogus"],
    ["-e", "local", "-t", "10", "extra"],
    ["-e", "local", "-e", "staging", "-t", "10"],
    ["flags"],
    ["flags", "frobnicate", "-e", "local"],
    ["flags", "get"],
    ["flags", "get", "-e", "local", "--traffic", "5"],
    ["flags", "set", "Bad-Flag", "-e", "local", "--traffic", "5", "--reason", "why not"],
    [
      "flags",
      "set",
      "flight_search_optimization",
      "-e",
      "local",
      "--traffic",
      "101",
      "--reason",
      "why",
    ],
    [
      "flags",
      "set",
      "flight_search_optimization",
      "-e",
      "local",
      "--traffic",
      "5",
      "--reason",
      "x",
    ],
    ["flags", "disable", "flight_search_optimization", "-e", "local"],
    ["flags", "sync", "-e", "local"],
    ["flags", "sync", "-e", "local", "--from-file", "--to-file"],
  ];
  try {
    for (const args of cases) {
      const lines: string[] = [];
      const code = await main(args, {
        print: (line) => lines.push(line),
        env: {},
        reportsDir: reports,
        supabaseBinary: "/nonexistent/supabase",
        startLocalStack: () => Promise.reject(new Error("must not start a stack")),
      });
      assertEquals(code, 2, `${JSON.stringify(args)} → ${lines.join("\n")}`);
      assert(
        lines.some((l) => l.startsWith("error: ")),
        `${JSON.stringify(args)} printed no error`,
      );
      assert(lines.some((l) => l.includes("Usage:")), `${JSON.stringify(args)} printed no usage`);
    }
    assertEquals([...Deno.readDirSync(reports)], [], "no deployment was logged");
  } finally {
    await Deno.remove(reports, { recursive: true });
  }
});
