/**
 * The latency proxy on its own thread, so the benchmark's HTTP client cannot delay its timers.
 * Messages in: `{ start: LatencyProxyOptions }`, `{ cmd: "stats" | "reset" | "close" }`; each is
 * answered with `{ port }`, `{ stats }` or `{ ok: true }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type LatencyProxy, startLatencyProxy } from "../local/latency_proxy.ts";

let proxy: LatencyProxy | undefined;

self.onmessage = async (event: MessageEvent) => {
  const message = event.data as { start?: Parameters<typeof startLatencyProxy>[0]; cmd?: string };
  try {
    if (message.start) {
      proxy = startLatencyProxy(message.start);
      self.postMessage({ port: proxy.port });
    } else if (message.cmd === "stats") {
      self.postMessage({ stats: proxy?.stats() });
    } else if (message.cmd === "reset") {
      proxy?.reset();
      self.postMessage({ ok: true });
    } else if (message.cmd === "close") {
      await proxy?.close();
      self.postMessage({ ok: true });
    }
  } catch (error) {
    self.postMessage({ error: (error as Error).message });
  }
};
