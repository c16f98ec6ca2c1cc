/**
 * Temporary folders that are cleaned up even after their owner was killed: each records the pid
 * of the process that made it, and making a new one of the same prefix first removes those whose
 * owner is gone. A graceful stop removes its own folder; a SIGKILLed test run or stack leaves one
 * behind only until the next run of the same kind.
 *
 * @module
 */
import { processAlive } from "./child_process.ts";

/** The file inside each folder naming the pid that owns it. */
export const ownerFile = ".owner-pid";

/**
 * Removes the folders `<tmp>/<prefix>*` whose owner process is gone (never one without an owner
 * file, nor one whose owner runs).
 *
 * @returns The folders removed.
 */
export async function sweepOwnedTempDirs(prefix: string, tmp: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(tmp)) {
    if (!entry.isDirectory || !entry.name.startsWith(prefix)) continue;
    const dir = `${tmp}/${entry.name}`;
    let owner: number;
    try {
      owner = Number((await Deno.readTextFile(`${dir}/${ownerFile}`)).trim());
    } catch {
      continue;
    }
    if (owner === Deno.pid || processAlive(owner)) continue;
    try {
      await Deno.remove(dir, { recursive: true });
      removed.push(dir);
    } catch {
      // another process swept it first, or it is not ours to remove
    }
  }
  return removed;
}

/**
 * Makes a temporary folder owned by this process, after sweeping the folders of the same prefix
 * that killed processes left behind. The caller removes it on a graceful stop.
 *
 * @example
 * ```ts
 * const dir = await makeOwnedTempDir("pf-redis-");
 * try {
 *   // … use dir …
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function makeOwnedTempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.writeTextFile(`${dir}/${ownerFile}`, `${Deno.pid}\n`);
  await sweepOwnedTempDirs(prefix, dir.slice(0, dir.lastIndexOf("/")));
  return dir;
}
