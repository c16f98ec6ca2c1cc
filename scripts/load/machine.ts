/**
 * The machine a run happens on, for summaries, benchmark reports and the readiness report: CPU
 * model, cores, memory, OS and Deno version, read from the running system, and the one schema
 * every file that records it is validated with.
 *
 * @module
 */
import { cpus } from "node:os";
import { z } from "zod";

/** zod schema of a machine description, as {@link machineInfo} returns it. */
export const machineSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  memoryBytes: z.number().nonnegative(),
  os: z.string(),
  runtime: z.string(),
});

/** The machine a run happened on. */
export type Machine = z.output<typeof machineSchema>;

/**
 * Describes this machine.
 *
 * @example
 * ```ts
 * const { cores, cpuModel } = machineInfo();
 * ```
 */
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

/**
 * One line for people: `cpu model, N cores, X GiB, os, runtime`.
 *
 * @example
 * ```ts
 * describeMachine(machineInfo()); // "AMD EPYC 7B13, 2 cores, 7.8 GiB, linux 6.1.0 x86_64, deno 2.9.6"
 * ```
 */
export function describeMachine(machine: Machine | undefined): string {
  if (!machine) return "unknown machine";
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return `${machine.cpuModel}, ${machine.cores} cores, ${gib} GiB, ${machine.os}, ${machine.runtime}`;
}
