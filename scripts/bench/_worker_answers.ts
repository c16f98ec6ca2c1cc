/**
 * The worker side of ./worker_thread.ts: each message posted to this worker is answered with one
 * message, or with `{ error }` when handling it failed.
 *
 * @module
 */
/// <reference lib="deno.worker" />

/** What a worker makes of one message: its answer, or undefined to answer nothing. */
export type MessageHandler = (
  message: Record<string, unknown>,
) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;

/** Answers every message to this worker through `handle`. */
export function answerMessages(handle: MessageHandler): void {
  self.onmessage = async (event: MessageEvent) => {
    try {
      const answer = await handle(event.data);
      if (answer !== undefined) self.postMessage(answer);
    } catch (error) {
      self.postMessage({ error: (error as Error).message });
    }
  };
}
