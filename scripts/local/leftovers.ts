/**
 * What a crashed stack may leave in its state folder, and how the next start deals with it: a
 * Postgres still running on our data folder (started before children had a lifeline, or still in
 * its fast shutdown), a stale `postmaster.pid`, a stack.json whose stack is gone.
 *
 * Each finding is said in one line (through `log`) and then dealt with, so a start after a crash
 * just works; what belongs to a stack that still runs is refused instead, never touched.
 *
 * @module
 */
import { processAlive, processCommandLine, signalProcess } from "./child_process.ts";

/** Thrown when the data folder or state folder is in use by a stack that still runs. */
export class StateInUseError extends Error {
  override name = "StateInUseError";
}

/** The parent pid of `pid` (Linux /proc), or undefined when unknown. */
export function parentPid(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^PPid:\s+(\d+)$/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a running stack process (a Deno that is not init and not us). */
function isLiveStack(pid: number | undefined): pid is number {
  if (pid === undefined || pid <= 1 || pid === Deno.pid || !processAlive(pid)) return false;
  return /deno/.test(processCommandLine(pid));
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * Deals with the `postmaster.pid` of `dataDir` before a start: a live postmaster of this folder
 * whose stack is gone is stopped with a fast shutdown (SIGINT; SIGQUIT after `timeoutMs`); a pid
 * file naming a process that is not Postgres (a pid reused after a reboot) is removed; one naming
 * no process is left for Postgres, which checks its shared memory before it reuses the folder.
 *
 * @returns What was found, or undefined when the folder held no pid file.
 * @throws {StateInUseError} when the postmaster belongs to a stack that still runs.
 */
export async function stopLeftoverPostmaster(
  dataDir: string,
  { log = () => {}, timeoutMs = 15_000 }: { log?: (line: string) => void; timeoutMs?: number } = {},
): Promise<string | undefined> {
  const file = `${dataDir}/postmaster.pid`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const [pidLine = "", , , portLine = ""] = text.split("\n");
  const pid = Number(pidLine.trim());
  if (!processAlive(pid)) {
    const found = `a stale postmaster.pid in ${dataDir} (pid ${pid} is not running)`;
    log(`Found ${found}: Postgres recovers from it`);
    return found;
  }
  if (!/postgres/.test(processCommandLine(pid))) {
    const found = `a postmaster.pid in ${dataDir} naming pid ${pid}, which is not Postgres`;
    log(`Found ${found}: removing it`);
    await Deno.remove(file).catch(() => {});
    return found;
  }
  const owner = parentPid(pid);
  if (isLiveStack(owner)) {
    throw new StateInUseError(
      `the Postgres of ${dataDir} (pid ${pid}) belongs to a stack that still runs (pid ${owner}). ` +
        "Stop it, or give this stack its own STACK_STATE_DIR.",
    );
  }
  const found = `a Postgres left running on ${dataDir} (pid ${pid}, port ${portLine.trim()})`;
  log(`Found ${found}: stopping it (fast shutdown)`);
  signalProcess(pid, "SIGINT");
  if (!(await waitGone(pid, timeoutMs))) {
    signalProcess(pid, "SIGQUIT");
    if (!(await waitGone(pid, 5_000))) {
      throw new StateInUseError(`the leftover Postgres (pid ${pid}) of ${dataDir} did not stop`);
    }
  }
  return found;
}

/** What stack.json records about the children, for tools and fault tests. */
export interface StackStateChildren {
  postgres?: number;
  redis?: number;
  functions?: Record<string, number | number[]>;
}

/**
 * Deals with a `stack.json` left in the state folder: refused when its stack still runs;
 * otherwise every child it names that still runs as the same program is stopped (they have a
 * lifeline, so normally none is), and the file is removed.
 *
 * @throws {StateInUseError} when the stack that wrote it still runs.
 */
export async function clearStaleStackState(
  file: string,
  { log = () => {} }: { log?: (line: string) => void } = {},
): Promise<string | undefined> {
  let state: { pid?: number; children?: StackStateChildren };
  try {
    state = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (!(error instanceof SyntaxError)) throw error;
    state = {};
  }
  if (isLiveStack(state.pid)) {
    throw new StateInUseError(
      `a stack (pid ${state.pid}) is running on this state folder (${file}). Stop it, or set ` +
        "STACK_STATE_DIR.",
    );
  }
  const children = state.children ?? {};
  // Postgres gets its fast shutdown; only our own programs are signalled (a pid reused by
  // something else is left alone).
  const candidates: Array<[number | undefined, Deno.Signal, RegExp]> = [
    [children.postgres, "SIGINT", /postgres/],
    [children.redis, "SIGTERM", /redis-server/],
    ...Object.values(children.functions ?? {}).flat().map((pid): [number, Deno.Signal, RegExp] => [
      pid,
      "SIGTERM",
      /deno/,
    ]),
  ];
  const ours = candidates.filter(([pid, , program]) =>
    typeof pid === "number" && processAlive(pid) && program.test(processCommandLine(pid))
  ) as Array<[number, Deno.Signal, RegExp]>;
  const found = `${file} of a stack that is gone (pid ${state.pid ?? "unknown"})`;
  log(
    `Found ${found}${
      ours.length > 0 ? `; stopping ${ours.length} of its processes still running` : ""
    }`,
  );
  for (const [pid, signal] of ours) signalProcess(pid, signal);
  await Promise.all(ours.map(([pid]) => waitGone(pid, 15_000)));
  await Deno.remove(file).catch(() => {});
  return found;
}
