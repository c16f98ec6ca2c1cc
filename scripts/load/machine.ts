/**
 * The machine a run happens on, for summaries and the report: CPU model, cores, memory, OS and
 * Deno version, read from the running system.
 *
 * @module
 */
import { cpus } from "node:os";
import type { Machine } from "./summary.ts";

/** Describes this machine. */
export function machineInfo(): Machine {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() || "unknown",
    cores: navigator.hardwareConcurrency || cpu.length || 1,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    runtime: `deno ${Deno.version.deno}`,
  };
}
