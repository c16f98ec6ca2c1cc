/**
 * The latency proxy on its own thread, so the benchmark's HTTP client cannot delay its timers.
 * Messages in: `{ start: LatencyProxyOptions }`, `{ cmd: "stats" | "reset" | "close" }`; each is
 * answered with `{ port }`, `{ stats }` or `{ ok: true }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type LatencyProxy, startLatencyProxy } from "../local/latency_proxy.ts";
import { answerMessages } from "./_worker_answers.ts";

let proxy: LatencyProxy | undefined;

answerMessages(async (data) => {
  const message = data as { start?: Parameters<typeof startLatencyProxy>[0]; cmd?: string };
  if (message.start) {
    proxy = startLatencyProxy(message.start);
    return { port: proxy.port };
  } else if (message.cmd === "stats") {
    return { stats: proxy?.stats() };
  } else if (message.cmd === "reset") {
    proxy?.reset();
    return { ok: true };
  } else if (message.cmd === "close") {
    await proxy?.close();
    return { ok: true };
  }
  return undefined;
});
