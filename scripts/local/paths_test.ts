import { assertEquals } from "../../tests/support/assert.ts";
import { repoRoot } from "./paths.ts";

/** What the writers resolve their folders to in a process started with `env` in `cwd`. */
async function defaults(env: Record<string, string>, cwd: string) {
  const script = `${cwd}/print_defaults.ts`;
  await Deno.writeTextFile(
    script,
    `import { localStateDir, reportsDir } from "${repoRoot}/scripts/local/paths.ts";
import { deploymentReportsDir } from "${repoRoot}/scripts/rollout/paths.ts";
import { stackFilePath } from "${repoRoot}/scripts/rollout/local_stack.ts";
import { parseLoadArgs } from "${repoRoot}/scripts/load/main.ts";
const load = parseLoadArgs(["--scenario", "baseline", "--base-url", "http://127.0.0.1:9",
  "--routes-file", "routes.json"], { SUPABASE_ANON_KEY: "anon" });
console.log(JSON.stringify({ reportsDir, localStateDir, deploymentReportsDir, stackFilePath,
  loadSummary: load.out }));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${repoRoot}/deno.json`, script],
    cwd,
    env: { DENO_NO_PACKAGE_JSON: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

Deno.test("REPORTS_DIR and STACK_STATE_DIR move every writer's folder (relative to the working directory)", async () => {
  const cwd = await Deno.realPath(await Deno.makeTempDir());
  try {
    const moved = await defaults({ REPORTS_DIR: "out/reports", STACK_STATE_DIR: "state" }, cwd);
    assertEquals(moved, {
      reportsDir: `${cwd}/out/reports`,
      localStateDir: `${cwd}/state`,
      deploymentReportsDir: `${cwd}/out/reports/deployments`,
      stackFilePath: `${cwd}/state/stack.json`,
      loadSummary: `${cwd}/out/reports/load/baseline.json`,
    });
    const unset = await defaults({}, cwd);
    assertEquals(unset.reportsDir, `${repoRoot}/reports`);
    assertEquals(unset.localStateDir, `${repoRoot}/.local`);
    assertEquals(unset.deploymentReportsDir, `${repoRoot}/reports/deployments`);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
