import { assert, assertEquals } from "../../tests/support/assert.ts";
import {
  type Lifeline,
  processAlive,
  processCommandLine,
  serverProcess,
  spawnChild,
} from "./child_process.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function waitUntil(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    assert(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("spawnChild() stops with the stop signal and reports the exit", opts, async () => {
  const child = spawnChild({ name: "sleeper", command: "sleep", args: ["60"] });
  assert(child.alive());
  assert(processAlive(child.pid));
  assert(!child.stopRequested());
  await child.stop();
  assert(!child.alive());
  assert(child.stopRequested());
  assertEquals((await child.exited).signal, "SIGTERM");
  assert(!processAlive(child.pid));
});

Deno.test(
  "spawnChild() escalates to the kill signal when the stop signal is ignored",
  opts,
  async () => {
    const child = spawnChild({
      name: "stubborn",
      command: "sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
      onLine: () => {},
    });
    await waitUntil("the trap is set", () => child.tail().includes("ready"));
    await child.stop(300);
    assertEquals((await child.exited).signal, "SIGKILL");
  },
);

Deno.test(
  "spawnChild() stops a frozen (SIGSTOPped) child that handles its stop signal",
  opts,
  async () => {
    // Postgres handles SIGINT: frozen, it would act on it only once continued.
    const child = spawnChild({
      name: "frozen",
      command: "sh",
      args: ["-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"],
      onLine: () => {},
    });
    await waitUntil("the trap is set", () => child.tail().includes("ready"));
    Deno.kill(child.pid, "SIGSTOP");
    await child.stop(10_000);
    assertEquals((await child.exited).code, 7, "its own handler ran, no escalation was needed");
  },
);

Deno.test("spawnChild() ends with SIGKILL when the kill signal is handled too", opts, async () => {
  const child = spawnChild({
    name: "stubborn",
    command: "sh",
    args: ["-c", "trap '' TERM QUIT; echo ready; while :; do sleep 0.05; done"],
    onLine: () => {},
    killSignal: "SIGQUIT",
  });
  await waitUntil("the trap is set", () => child.tail().includes("ready"));
  await child.stop(100);
  assertEquals((await child.exited).signal, "SIGKILL");
});

Deno.test("spawnChild() keeps the last lines the child wrote", opts, async () => {
  const seen: string[] = [];
  const child = spawnChild({
    name: "talker",
    command: "sh",
    args: ["-c", "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2"],
    onLine: (line) => seen.push(line),
    tailLines: 3,
  });
  const status = await child.exited;
  assertEquals(status.code, 0);
  assertEquals(seen.length, 6);
  assertEquals(child.tail().length, 3);
});

/**
 * A parent Deno process that starts a child through spawnChild, prints its pid, and is then
 * SIGKILLed: the child must die with it, whichever lifeline is used.
 */
async function childOutlivesParent(lifeline: Lifeline): Promise<boolean> {
  const script = `
    import { spawnChild } from ${
    JSON.stringify(new URL("./child_process.ts", import.meta.url).href)
  };
    const child = spawnChild({ name: "orphan", command: "sleep", args: ["60"], lifeline: ${
    JSON.stringify(lifeline)
  }, detached: true });
    console.log(child.pid);
    await new Promise(() => {});`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  const pid = Number(value?.trim());
  assert(pid > 0 && processAlive(pid), `child started: ${value}`);
  // setpriv asks for the signal just before it execs the server: a parent killed in that first
  // millisecond leaves an orphan (a stack is never killed that early in practice; it waits for
  // its servers to answer). Wait until the exec happened.
  if (lifeline === "pdeathsig") {
    await waitUntil("setpriv execs the program", () => processCommandLine(pid).startsWith("sleep"));
  }
  parent.kill("SIGKILL");
  await parent.status;
  reader.releaseLock();
  await parent.stdout.cancel().catch(() => {});
  try {
    await waitUntil(`the ${lifeline} child dies with its parent`, () => !processAlive(pid), 3_000);
    return false;
  } catch {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    return true;
  }
}

Deno.test(
  "spawnChild() child dies with its SIGKILLed parent (setpriv --pdeathsig)",
  { ...opts, ignore: Deno.build.os !== "linux" },
  async () => {
    assertEquals(await childOutlivesParent("pdeathsig"), false);
  },
);

Deno.test("spawnChild() child dies with its SIGKILLed parent (pipe watchdog)", opts, async () => {
  assertEquals(await childOutlivesParent("watchdog"), false);
});

Deno.test("spawnChild() without a lifeline, the child outlives its parent", opts, async () => {
  // The control: proves the two tests above can fail.
  assertEquals(await childOutlivesParent("none"), true);
});

Deno.test(
  "serverProcess() shows its owner the child's process, last lines and stop",
  opts,
  async () => {
    const child = spawnChild({
      name: "sleeper",
      command: "sh",
      args: ["-c", "echo ready; exec sleep 60"],
      onLine: () => {},
    });
    const server = serverProcess(child, 5_000);
    assertEquals(server.pid, child.pid);
    await waitUntil("the first line", () => server.logTail().includes("ready"));
    assert(server.alive() && !server.stopRequested());
    await server.stop();
    assert(!server.alive() && server.stopRequested());
    assertEquals((await server.exited).signal, "SIGTERM");
  },
);
