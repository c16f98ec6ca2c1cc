import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { supervise, type Supervised } from "./supervisor.ts";

/** A server whose exit the test decides. */
class FakeServer implements Supervised {
  static nextPid = 1000;
  readonly pid = FakeServer.nextPid++;
  #requested = false;
  #exit!: (status: Deno.CommandStatus) => void;
  readonly exited = new Promise<Deno.CommandStatus>((resolve) => this.#exit = resolve);
  stopRequested = () => this.#requested;
  crash() {
    this.#exit({ success: false, code: 137, signal: "SIGKILL" });
  }
  stop() {
    this.#requested = true;
    this.#exit({ success: true, code: 0, signal: null });
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    assert(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const fast = { initialBackoffMs: 1, maxBackoffMs: 4 };

Deno.test("supervise() restarts a server that crashed and says so", async () => {
  const lines: string[] = [];
  const first = new FakeServer();
  const restarted: FakeServer[] = [];
  const supervisor = supervise({
    name: "Postgres",
    first,
    restart: () => Promise.resolve(new FakeServer()),
    log: (line) => lines.push(line),
    onRestart: (server) => restarted.push(server),
    ...fast,
  });
  first.crash();
  await until("restarted once", () => supervisor.restarts() === 1);
  assertEquals(restarted, [supervisor.current()]);
  assert(supervisor.current() !== first);
  assert(lines[0]!.includes(`Postgres (pid ${first.pid}) exited unexpectedly (killed by SIGKILL)`));
  assert(lines.some((l) => l.includes(`Postgres restarted (pid ${supervisor.current().pid})`)));
  // A second crash of the new server is noticed too.
  supervisor.current().crash();
  await until("restarted twice", () => supervisor.restarts() === 2);
  await supervisor.stop();
});

Deno.test("supervise() does not restart a server whose stop was asked for", async () => {
  const first = new FakeServer();
  let starts = 0;
  const supervisor = supervise({
    name: "Redis",
    first,
    restart: () => {
      starts++;
      return Promise.resolve(new FakeServer());
    },
    log: () => {},
    ...fast,
  });
  first.stop();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assertEquals(starts, 0);
  assertEquals(supervisor.restarts(), 0);
});

Deno.test("supervise() gives up after maxAttempts failed starts in a row", async () => {
  const lines: string[] = [];
  const first = new FakeServer();
  let starts = 0;
  const supervisor = supervise({
    name: "Postgres",
    first,
    restart: () => {
      starts++;
      return Promise.reject(new Error("pre-existing shared memory block is still in use\nmore"));
    },
    log: (line) => lines.push(line),
    maxAttempts: 3,
    ...fast,
  });
  first.crash();
  await until("gave up", () => lines.some((l) => l.includes("giving up after 3 attempts")));
  assertEquals(starts, 3);
  assertEquals(supervisor.restarts(), 0);
  assert(lines.some((l) => l.endsWith("failed: pre-existing shared memory block is still in use")));
  // Backoff doubles up to the bound: 1, 2, 4 ms.
  assertEquals(
    lines.filter((l) => l.includes("restarting in")).map((l) => /in (\d+) ms/.exec(l)?.[1]),
    ["1", "2", "4"],
  );
});

Deno.test("supervise() counts attempts across crashes until the server stays up", async () => {
  const lines: string[] = [];
  const supervisor = supervise({
    name: "function health",
    first: new FakeServer(),
    restart: () => Promise.resolve(new FakeServer()),
    log: (line) => lines.push(line),
    maxAttempts: 2,
    healthyAfterMs: 60_000,
    ...fast,
  });
  supervisor.current().crash();
  await until("first restart", () => supervisor.restarts() === 1);
  supervisor.current().crash();
  await until("second restart", () => supervisor.restarts() === 2);
  supervisor.current().crash();
  await until("gave up", () => lines.some((l) => l.includes("giving up after 2 attempts")));
  assertEquals(supervisor.restarts(), 2);
});

Deno.test("supervise() follows a server replaced on purpose", async () => {
  const first = new FakeServer();
  const supervisor = supervise({
    name: "function health",
    first,
    restart: () => Promise.resolve(new FakeServer()),
    log: () => {},
    ...fast,
  });
  first.stop();
  const replacement = new FakeServer();
  supervisor.replace(replacement);
  assertEquals(supervisor.current(), replacement);
  replacement.crash();
  await until("the replacement is restarted", () => supervisor.restarts() === 1);
  await supervisor.stop();
});

Deno.test("supervise() stop() during the backoff starts nothing", async () => {
  const first = new FakeServer();
  let starts = 0;
  const supervisor = supervise({
    name: "Postgres",
    first,
    restart: () => {
      starts++;
      return Promise.resolve(new FakeServer());
    },
    log: () => {},
    initialBackoffMs: 200,
    maxBackoffMs: 200,
  });
  first.crash();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await supervisor.stop();
  await new Promise((resolve) => setTimeout(resolve, 250));
  assertEquals(starts, 0);
});

Deno.test("supervise() rejects malformed options", () => {
  const base = {
    name: "x",
    first: new FakeServer(),
    restart: () => Promise.reject(),
    log: () => {},
  };
  assertThrows(() => supervise({ ...base, maxAttempts: 0 }), RangeError, "maxAttempts");
  assertThrows(
    () => supervise({ ...base, initialBackoffMs: 10, maxBackoffMs: 5 }),
    RangeError,
    "initialBackoffMs",
  );
});
