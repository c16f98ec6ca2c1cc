/**
 * Lays a workload's phases out as autocannon runs, one after the other.
 *
 * constant-vus is one run with one connection per VU. constant-arrival-rate is one run at
 * autocannon's `overallRate`. ramping-vus has no autocannon equivalent, so each stage is cut
 * into steps of at most `stepS` seconds, each run at the VU count the ramp reaches in the middle
 * of the step (a staircase that follows k6's linear ramp).
 *
 * @module
 */
import type { Phase, Workload } from "./workloads/workloads.js";

/** One autocannon run. */
export interface AutocannonRun {
  /** The workload phase it belongs to (its tags and search-mix block). */
  phaseIndex: number;
  connections: number;
  durationS: number;
  /** Requests per second over all connections (constant-arrival-rate). */
  overallRate?: number;
  /** VU numbers of this run's connections start after this one. */
  vuOffset: number;
}

/** Longest step of a ramp, in seconds. @default 5 */
export const defaultStepS = 5;

function rampRuns(phase: Phase, stepS: number): AutocannonRun[] {
  const runs: AutocannonRun[] = [];
  let from = 0;
  for (const stage of phase.stages ?? []) {
    const steps = Math.max(1, Math.ceil(stage.durationS / stepS));
    for (let k = 0; k < steps; k++) {
      // Whole seconds per step, the remainder spread over the first steps.
      const durationS = Math.floor(stage.durationS / steps) +
        (k < stage.durationS % steps ? 1 : 0);
      const connections = Math.round(from + (stage.target - from) * (k + 0.5) / steps);
      if (durationS > 0 && connections > 0) {
        runs.push({ phaseIndex: phase.index, connections, durationS, vuOffset: 0 });
      }
    }
    from = stage.target;
  }
  return runs;
}

/** The autocannon runs of `workload`, in order. */
export function autocannonRuns(workload: Workload, stepS = defaultStepS): AutocannonRun[] {
  const runs: AutocannonRun[] = [];
  let vuOffset = 0;
  for (const phase of workload.phases) {
    switch (phase.executor) {
      case "constant-vus":
        runs.push({
          phaseIndex: phase.index,
          connections: phase.vus,
          durationS: phase.durationS,
          vuOffset,
        });
        break;
      case "constant-arrival-rate": {
        const rate = phase.rate ?? 1;
        runs.push({
          phaseIndex: phase.index,
          connections: Math.max(1, Math.min(phase.vus, rate)),
          durationS: phase.durationS,
          overallRate: rate,
          vuOffset,
        });
        break;
      }
      case "ramping-vus":
        runs.push(...rampRuns(phase, stepS).map((run) => ({ ...run, vuOffset })));
        break;
    }
    vuOffset += phase.vus;
  }
  return runs;
}
