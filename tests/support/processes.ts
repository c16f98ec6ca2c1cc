/**
 * Process trees for fault tests: the embedded Postgres is a postmaster with a child per backend
 * and background worker, and freezing "Postgres" means stopping every one of them.
 *
 * @module
 */

/** Pids whose parent is `pid`, read from /proc (Linux). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry.name));
    } catch {
      // the process exited meanwhile
    }
  }
  return children;
}

/** `pid` and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...childPids(tree[i]!));
  return tree;
}

/** Sends `signal` to every pid (ignoring ones that are gone); returns how many got it. */
export function signalAll(pids: number[], signal: Deno.Signal): number {
  let sent = 0;
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
      sent++;
    } catch {
      // already gone
    }
  }
  return sent;
}

/** Whether a process with `pid` exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
