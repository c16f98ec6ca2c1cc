import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { readReportInputs } from "./inputs.ts";

async function write(path: string, value: unknown) {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
}

/** A load summary as the driver writes it, with only the fields the schema needs. */
function summary(workload: string, endedAt: string, requests: number) {
  const trend = { avg: 1, min: 1, med: 1, max: 1, "p(90)": 1, "p(95)": 1, "p(99)": 1, count: 1 };
  return {
    meta: {
      driver: "autocannon",
      workload,
      description: "",
      startedAt: "2026-11-22T10:00:00.000Z",
      endedAt,
      baseUrl: "http://127.0.0.1:1",
      seed: 5,
      duplication: 0.5,
      gateLevel: "rollback",
      routes: 1,
      phases: [{
        name: workload,
        index: 0,
        executor: "constant-vus",
        startS: 0,
        durationS: 1,
        vus: 1,
        tags: {},
      }],
    },
    state: { testRunDurationMs: 1000 },
    metrics: {
      http_reqs: {
        type: "counter",
        contains: "default",
        values: { count: requests, rate: requests },
      },
      http_req_duration: { type: "trend", contains: "time", values: trend },
      http_req_failed: {
        type: "rate",
        contains: "default",
        values: { rate: 0, passes: 0, fails: 1 },
      },
    },
  };
}

Deno.test("readReportInputs() says which inputs are missing, invalid or usable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const empty = await readReportInputs(dir);
    assertEquals(empty.search, { status: "missing", path: `${dir}/bench/search.json` });
    assertEquals(empty.kms.status, "missing");
    assertEquals(empty.loads, []);

    await write(`${dir}/bench/search.json`, "{ nope");
    // The shape the old report reader expected: the benchmark never wrote it.
    await write(`${dir}/bench/kms.json`, {
      startedAt: "2026-11-22T10:00:00Z",
      results: [{ contender: "pooled" }],
    });
    await write(`${dir}/load/routes.json`, { routes: [] });
    await write(`${dir}/load/baseline.json`, summary("baseline", "2026-11-22T10:00:01.000Z", 10));
    await write(
      `${dir}/load/baseline-k6.json`,
      summary("baseline", "2026-11-22T11:00:01.000Z", 20),
    );
    await write(`${dir}/load/broken.json`, { meta: {} });
    const inputs = await readReportInputs(dir);
    assertEquals(inputs.search.status, "invalid");
    assertStringIncludes((inputs.search as { error: string }).error, "not valid JSON");
    assertEquals(inputs.kms.status, "invalid");
    assertStringIncludes((inputs.kms as { error: string }).error, "meta:");
    assertEquals(inputs.loads.length, 2, "latest baseline + the broken file; routes.json skipped");
    const [latest, broken] = inputs.loads;
    assert(latest?.status === "ok");
    assertEquals(latest.path, `${dir}/load/baseline-k6.json`, "the later endedAt wins");
    assertEquals(broken?.status, "invalid");
    assertStringIncludes((broken as { error: string }).error, "meta.driver");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readReportInputs() reads the latest deployment log, when there is one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals((await readReportInputs(dir)).rollout, undefined);
    const deployment = (id: string, status: string) => ({
      id,
      environment: "local",
      flagKey: "flight_search_optimization",
      fromPercentage: 0,
      toPercentage: 100,
      steps: [10, 100],
      status,
      reason: null,
      startedAt: "2026-11-22T10:00:00.000Z",
      finishedAt: "2026-11-22T10:01:00.000Z",
      startedBy: "tester@host",
      dryRun: false,
      options: {},
      phases: [],
      checks: [],
      executed: [],
      events: [],
    });
    await write(
      `${dir}/deployments/dep_20261122_100000_aaaaaa.json`,
      deployment("dep_20261122_100000_aaaaaa", "rolled_back"),
    );
    await write(
      `${dir}/deployments/dep_20261122_110000_bbbbbb.json`,
      deployment("dep_20261122_110000_bbbbbb", "promoted"),
    );
    await write(`${dir}/deployments/dep_20261122_110000_bbbbbb.md`, "# not JSON");
    const inputs = await readReportInputs(dir);
    assert(inputs.rollout?.status === "ok");
    assertEquals([inputs.rollout.data.id, inputs.rollout.data.status], [
      "dep_20261122_110000_bbbbbb",
      "promoted",
    ]);

    await write(`${dir}/deployments/dep_20261122_120000_cccccc.json`, { id: "x" });
    const broken = await readReportInputs(dir);
    assertEquals(broken.rollout?.status, "invalid", "the latest is shown as invalid, not skipped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
