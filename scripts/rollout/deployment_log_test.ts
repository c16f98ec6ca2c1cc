import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { DeploymentLog, newDeploymentId, writeDeploymentFiles } from "./deployment_log.ts";

const migration = await Deno.readTextFile(
  new URL("../../supabase/migrations/20261122000600_deployments.sql", import.meta.url),
);

Deno.test("newDeploymentId() matches the deployments table's id check and sorts by time", () => {
  const pattern = /id ~ '([^']+)'/.exec(migration)?.[1];
  assert(pattern, "the migration checks the id format");
  let i = 0;
  const random = () => [0, 0.5, 0.99][i++ % 3]!;
  const early = newDeploymentId(new Date("2026-11-22T09:05:07Z"), random);
  const late = newDeploymentId(new Date("2026-11-22T10:00:00Z"), random);
  assertEquals(early.slice(0, 19), "dep_20261122_090507");
  assert(new RegExp(pattern).test(early), early);
  assert(early < late);
});

Deno.test("DeploymentLog records phases, checks and the outcome; toMarkdown() shows them", async () => {
  const log = new DeploymentLog({
    id: "dep_20261122_090507_abc123",
    environment: "local",
    flagKey: "flight_search_optimization",
    steps: [10, 50],
    startedBy: "ops@host",
    startedAt: new Date("2026-11-22T09:05:07Z"),
    dryRun: false,
    options: {},
  });
  log.setFrom(0);
  const phase = log.startPhase(4, "Monitoring", new Date("2026-11-22T09:05:10Z"), 10);
  log.check(10, {
    index: 1,
    since: "2026-11-22T09:05:10.000Z",
    until: "2026-11-22T09:05:20.000Z",
    outcome: "fail",
    optimizedRequests: 100,
    legacyRequests: 900,
    metrics: [{ metric: "error_rate", optimized: 0.1, legacy: 0, verdict: "rollback" }],
    notes: ["error_rate 0.100 > rollback level 0.05"],
  });
  log.finishPhase(phase, new Date("2026-11-22T09:05:30Z"), "ok");
  log.setTraffic(0);
  log.finish("rolled_back", "2 consecutive failed checks", new Date("2026-11-22T09:05:31Z"));
  const record = log.toJSON();
  assertEquals(record.status, "rolled_back");
  assertEquals(record.phases[0]?.durationMs, 20_000);
  const md = log.toMarkdown();
  assertStringIncludes(md, "**rolled_back** — 2 consecutive failed checks");
  assertStringIncludes(md, "| 10% | 1 | 09:05:10–09:05:20 | fail | 100 / 900 | 0.100 / 0 ✗");

  const dir = await Deno.makeTempDir();
  try {
    const paths = await writeDeploymentFiles(log, `${dir}/deployments`);
    assertEquals(JSON.parse(await Deno.readTextFile(paths.json)).id, record.id);
    assertEquals(await Deno.readTextFile(paths.markdown), md);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
