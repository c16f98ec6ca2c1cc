import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { RedisStartError, RedisUnavailableError, startRedis } from "./redis.ts";

/** Sends one inline command and returns the raw reply once it holds `lines` CRLF-ended lines. */
async function inline(port: number, command: string, lines = 1): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`${command}\r\n`));
    const buffer = new Uint8Array(512);
    let text = "";
    while (text.split("\r\n").length - 1 < lines) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("startRedis() starts a redis-server without persistence and stop() ends it", async () => {
  const redis = await startRedis({ env: {} });
  const pid = redis.pid;
  try {
    assert(redis.owned, "expected a server of our own");
    assertEquals(redis.url, `redis://127.0.0.1:${redis.port}`);
    assertEquals(await inline(redis.port, "PING"), "+PONG\r\n");
    assertEquals(await inline(redis.port, "SET k v"), "+OK\r\n");
    // Replies are [name, value]: save "" (an empty bulk string) and appendonly no.
    assertEquals(await inline(redis.port, "CONFIG GET save", 5), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    assertEquals(
      await inline(redis.port, "CONFIG GET appendonly", 5),
      "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    assert(pid !== undefined && processExists(pid), "expected the server process to run");
  } finally {
    await redis.stop();
  }
  assert(pid !== undefined && !processExists(pid), `process ${pid} outlived stop()`);
  await assertRejects(() => Deno.connect({ hostname: "127.0.0.1", port: redis.port }));
});

Deno.test("startRedis() uses REDIS_URL as given and starts nothing", async () => {
  const redis = await startRedis({ env: { REDIS_URL: "redis://127.0.0.1:6390/2" } });
  assertEquals(redis.url, "redis://127.0.0.1:6390/2");
  assertEquals(redis.port, 6390);
  assertEquals(redis.owned, false);
  assertEquals(redis.pid, undefined);
  await redis.stop();
});

Deno.test("startRedis() rejects a REDIS_URL that is not a redis:// URL", async () => {
  await assertRejects(
    () => startRedis({ env: { REDIS_URL: "http://127.0.0.1:6379" } }),
    RangeError,
    "REDIS_URL",
  );
});

Deno.test("startRedis() names what is missing when there is no redis-server", async () => {
  const error = await assertRejects(
    () => startRedis({ env: {}, binary: "pf-no-such-redis-server" }),
    RedisUnavailableError,
  );
  assertStringIncludes(error.message, "pf-no-such-redis-server");
  assertStringIncludes(error.message, "REDIS_URL");
  assertStringIncludes(error.message, "apt-get install -y redis-server");
});

Deno.test("startRedis() does not mistake a server already on the port for its own", async () => {
  const first = await startRedis({ env: {} });
  try {
    const error = await assertRejects(
      () => startRedis({ env: {}, port: first.port }),
      RedisStartError,
    );
    assertStringIncludes(error.message.toLowerCase(), "address already in use");
  } finally {
    await first.stop();
  }
});

Deno.test("startRedis() rejects a malformed port", async () => {
  await assertRejects(() => startRedis({ env: {}, port: 70_000 }), RangeError, "port");
});

/** True while `pid` is a live (not zombie) process. */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

Deno.test("startRedis() leaves no redis-server behind when its parent is killed", async () => {
  const script = `
      const { startRedis } = await import(${JSON.stringify(import.meta.resolve("./redis.ts"))});
      const redis = await startRedis({ env: {} });
      console.log(redis.pid);
      setInterval(() => {}, 1000);`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const pid = Number(out.trim());
  assert(Number.isInteger(pid) && running(pid), `expected a running server, parent said ${out}`);
  parent.kill("SIGKILL");
  await parent.status;
  await reader.cancel();
  const deadline = Date.now() + 5_000;
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const orphan = running(pid);
  if (orphan) Deno.kill(pid, "SIGKILL");
  assert(!orphan, `redis-server ${pid} outlived its killed parent`);
});
