// Tests of ./workloads.js; the k6 entry scripts themselves (tests/load/) are outside `deno test`.
import { assert, assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import {
  gracefulStopS,
  overridesFromEnv,
  resolveWorkload,
  workloadNames,
  workloads,
} from "./workloads.js";

Deno.test("workloads: every workload has a same-named k6 script and every script a workload", async () => {
  const scripts = [...Deno.readDirSync(new URL("../../../tests/load/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".js"))
    .map((e) => e.name.replace(/\.js$/, ""))
    .sort();
  assertEquals(scripts, [...workloadNames].sort());
  for (const name of workloadNames) {
    const text = await Deno.readTextFile(
      new URL(`../../../tests/load/${name}.js`, import.meta.url),
    );
    assert(text.includes(`k6Workload("${name}"`), `${name}.js runs workload ${name}`);
  }
});

Deno.test("resolveWorkload() lays out the documented shapes", () => {
  const baseline = resolveWorkload("baseline");
  assertEquals(baseline.phases.length, 1);
  assertEquals(baseline.phases[0]!.executor, "constant-vus");
  assertEquals(baseline.phases[0]!.vus, workloads.baseline!.vus);

  const stress = resolveWorkload("stress");
  const peak = Math.max(...workloads.stress!.stages!.map((s) => s.target));
  assertEquals(stress.phases[0]!.vus, peak);
  assertEquals(stress.phases[0]!.executor, "ramping-vus");

  const sweep = resolveWorkload("sweep");
  assertEquals(sweep.phases.map((p) => p.vus), workloads.sweep!.levels);
  assertEquals(sweep.phases.map((p) => p.tags.concurrency), workloads.sweep!.levels!.map(String));
  for (let i = 1; i < sweep.phases.length; i++) {
    const prev = sweep.phases[i - 1]!;
    assertEquals(sweep.phases[i]!.startS, prev.startS + prev.durationS + gracefulStopS);
  }

  const soak = resolveWorkload("soak");
  assertEquals(soak.phases[0]!.executor, "constant-arrival-rate");
  assertEquals(soak.phases[0]!.rate, workloads.soak!.rate);
});

Deno.test("resolveWorkload() scales durations and VUs to overrides", () => {
  const stress = resolveWorkload("stress", { durationS: 39, vus: 30 });
  assertEquals(stress.phases[0]!.vus, 30);
  const total = stress.phases[0]!.stages!.reduce((sum, s) => sum + s.durationS, 0);
  assert(Math.abs(total - 39) <= stress.phases[0]!.stages!.length, `total ${total}`);
  assertEquals(stress.phases[0]!.durationS, total);

  const sweep = resolveWorkload("sweep", { durationS: 8 });
  assertEquals(sweep.phases.map((p) => p.durationS), [2, 2, 2, 2]);
  assertEquals(resolveWorkload("soak", { rate: 7 }).phases[0]!.rate, 7);
  assertEquals(resolveWorkload("baseline", { seed: 9 }).seed, 9);
  assertEquals(resolveWorkload("baseline").seed, null, "no seed: the driver picks one per run");
});

Deno.test("resolveWorkload() refuses unknown names and overrides that do not fit", () => {
  assert(assertThrows(() => resolveWorkload("smoke"), RangeError).message.includes("baseline"));
  assertThrows(() => resolveWorkload("toString"), RangeError);
  assert(
    assertThrows(() => resolveWorkload("baseline", { rate: 5 }), RangeError).message.startsWith(
      "rate:",
    ),
  );
  assert(
    assertThrows(() => resolveWorkload("sweep", { vus: 5 }), RangeError).message.startsWith("vus:"),
  );
  assertThrows(() => resolveWorkload("baseline", { vus: 0 }), RangeError);
  assertThrows(() => resolveWorkload("baseline", { durationS: 1.5 }), RangeError);
});

Deno.test("overridesFromEnv() reads LOAD_* and names a malformed one", () => {
  assertEquals(
    overridesFromEnv({ LOAD_DURATION: "1m30s", LOAD_VUS: "7", LOAD_RATE: "3", LOAD_SEED: "4" }),
    { durationS: 90, vus: 7, rate: 3, seed: 4 },
  );
  assertEquals(overridesFromEnv({ LOAD_DURATION: "" }), {});
  assert(
    assertThrows(() => overridesFromEnv({ LOAD_DURATION: "90" }), RangeError).message.startsWith(
      "LOAD_DURATION:",
    ),
  );
  assert(
    assertThrows(() => overridesFromEnv({ LOAD_VUS: "-3" }), RangeError).message.startsWith(
      "LOAD_VUS:",
    ),
  );
});
