import { assert, assertEquals } from "../../tests/support/assert.ts";
import { resolveWorkload } from "./workloads/workloads.js";
import { autocannonRuns } from "./plan.ts";

Deno.test("autocannonRuns() gives constant-vus one run with a connection per VU", () => {
  assertEquals(autocannonRuns(resolveWorkload("baseline", { durationS: 7, vus: 3 })), [
    { phaseIndex: 0, connections: 3, durationS: 7, vuOffset: 0 },
  ]);
});

Deno.test("autocannonRuns() runs the arrival rate at overallRate, never more connections than rate", () => {
  assertEquals(autocannonRuns(resolveWorkload("soak", { durationS: 9, rate: 4, vus: 50 })), [
    { phaseIndex: 0, connections: 4, durationS: 9, overallRate: 4, vuOffset: 0 },
  ]);
});

Deno.test("autocannonRuns() follows a ramp with a staircase of at most stepS-second runs", () => {
  const workload = resolveWorkload("stress");
  const phase = workload.phases[0]!;
  const runs = autocannonRuns(workload, 5);
  assert(runs.every((r) => r.durationS <= 5 && r.durationS > 0 && r.connections > 0));
  // Only steps at 0 VUs are dropped, so the staircase lasts as long as the ramp.
  const total = runs.reduce((sum, r) => sum + r.durationS, 0);
  assert(total <= phase.durationS && total >= phase.durationS - 5, `total ${total}`);
  assertEquals(Math.max(...runs.map((r) => r.connections)), phase.vus);
  // First stage climbs: connection counts never fall while the target rises.
  const firstStage = runs.slice(0, Math.ceil(phase.stages![0]!.durationS / 5));
  for (let i = 1; i < firstStage.length; i++) {
    assert(firstStage[i]!.connections >= firstStage[i - 1]!.connections);
  }
});

Deno.test("autocannonRuns() runs the sweep's levels in order with distinct VU numbers", () => {
  const runs = autocannonRuns(resolveWorkload("sweep", { durationS: 4 }));
  assertEquals(runs.map((r) => [r.phaseIndex, r.connections, r.vuOffset]), [
    [0, 1, 0],
    [1, 5, 1],
    [2, 10, 6],
    [3, 50, 16],
  ]);
});
