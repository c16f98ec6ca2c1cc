/**
 * A module worker the benchmarks talk to by messages, one question answered at a time, so a
 * server they measure through (the latency proxy, the gateway) runs on a thread of its own and
 * their HTTP client cannot delay its timers.
 *
 * @module
 */

/** A worker that answers each message with one; an answer with `error` rejects. */
export class WorkerThread {
  #worker: Worker;
  #queue: Array<(data: Record<string, unknown>) => void> = [];

  /** Starts the module worker at `url`. */
  constructor(url: URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event) => this.#queue.shift()?.(event.data);
  }

  /** Sends `message`; resolves with the answer. @throws {Error} with the answer's `error`. */
  ask(message: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#queue.push((
        data,
      ) => (data.error ? reject(new Error(String(data.error))) : resolve(data)));
      this.#worker.postMessage(message);
    });
  }

  /** Stops the worker at once. */
  terminate(): void {
    this.#worker.terminate();
  }
}
