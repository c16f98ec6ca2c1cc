/**
 * The latency proxy (scripts/local/latency_proxy.ts) on a thread of its own
 * (./_latency_proxy_worker.ts), so the benchmark's HTTP client cannot delay its timers.
 *
 * @module
 */
import type { ProxyStats } from "../local/latency_proxy.ts";
import { WorkerThread } from "./worker_thread.ts";

/** The latency proxy in a worker thread. */
export class ProxyWorker {
  #thread = new WorkerThread(new URL("./_latency_proxy_worker.ts", import.meta.url));

  /** Starts the proxy in front of `targetPort`, adding `delayMs` each way; resolves to its port. */
  async start(targetPort: number, delayMs: number): Promise<number> {
    return (await this.#thread.ask({ start: { targetPort, delayMs } })).port as number;
  }
  /** What the proxy has counted so far. */
  async stats(): Promise<ProxyStats> {
    return (await this.#thread.ask({ cmd: "stats" })).stats as ProxyStats;
  }
  /** Closes the proxy and ends the thread. */
  async close(): Promise<void> {
    await this.#thread.ask({ cmd: "close" });
    this.#thread.terminate();
  }
}
