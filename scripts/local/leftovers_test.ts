import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { processAlive } from "./child_process.ts";
import { clearStaleStackState, StateInUseError, stopLeftoverPostmaster } from "./leftovers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false, ignore: Deno.build.os !== "linux" };

/** A pid that no process has (a child that ran and was reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test(
  "stopLeftoverPostmaster() leaves a pid file naming no process to Postgres",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const pid = await deadPid();
      await Deno.writeTextFile(`${dir}/postmaster.pid`, `${pid}\n${dir}\n0\n5432\n`);
      const lines: string[] = [];
      const found = await stopLeftoverPostmaster(dir, { log: (l) => lines.push(l) });
      assertStringIncludes(found!, `pid ${pid} is not running`);
      assertEquals(lines.length, 1);
      assert(await exists(`${dir}/postmaster.pid`), "Postgres checks its shared memory itself");
      assertEquals(await stopLeftoverPostmaster(`${dir}/none`), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "stopLeftoverPostmaster() removes a pid file naming a program that is not Postgres",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      await Deno.writeTextFile(`${dir}/postmaster.pid`, `${sleeper.pid}\n${dir}\n0\n5432\n`);
      const found = await stopLeftoverPostmaster(dir);
      assertStringIncludes(found!, "which is not Postgres");
      assert(!(await exists(`${dir}/postmaster.pid`)));
      assert(processAlive(sleeper.pid), "the other program is left alone");
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "clearStaleStackState() removes the stack.json of a stack that is gone",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      const file = `${dir}/stack.json`;
      // A function pid now reused by `sleep`: not one of our programs, so it is left alone.
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          pid: await deadPid(),
          children: { functions: { health: [sleeper.pid] } },
        }),
      );
      const lines: string[] = [];
      assertStringIncludes(
        (await clearStaleStackState(file, { log: (l) => lines.push(l) }))!,
        "gone",
      );
      assert(!(await exists(file)));
      assert(processAlive(sleeper.pid));
      assertEquals(lines.length, 1);
      assertEquals(await clearStaleStackState(file), undefined);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "clearStaleStackState() refuses the state folder of a stack that still runs",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const stack = new Deno.Command(Deno.execPath(), {
      args: ["eval", "await new Promise((r) => setTimeout(r, 30_000))"],
    }).spawn();
    try {
      const file = `${dir}/stack.json`;
      await Deno.writeTextFile(file, JSON.stringify({ pid: stack.pid }));
      await assertRejects(() => clearStaleStackState(file), StateInUseError, `pid ${stack.pid}`);
      assert(await exists(file), "a running stack's file is kept");
    } finally {
      stack.kill("SIGKILL");
      await stack.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);
