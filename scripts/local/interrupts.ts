/**
 * Ctrl-C for the stack's command lines: the first SIGINT (or SIGTERM) starts a graceful stop, a
 * second one stops at once.
 *
 * One key press can arrive twice: a terminal sends SIGINT to its whole foreground process group,
 * and `deno task` (what `npm start` and `npm run stack` run) forwards the one it got to its child
 * as well. So a second signal counts only when it comes {@link repeatGraceMs} or more after the
 * first — a person pressing again, not the echo.
 *
 * @module
 */

/** Signals within this many ms of the first are the same key press. */
export const repeatGraceMs = 500;

/** What to do on the first interrupt and on a later one. */
export interface InterruptHandlers {
  /** The graceful stop (roll back, stop children, exit). */
  first: (signal: Deno.Signal) => void;
  /** The impatient stop (kill children, exit at once). */
  again: (signal: Deno.Signal) => void;
}

/**
 * Listens for SIGINT and SIGTERM (or `signals`) until the returned function is called.
 *
 * @example
 * ```ts
 * const remove = onInterrupt({
 *   first: () => stopGracefully(),
 *   again: () => Deno.exit(130),
 * });
 * ```
 */
export function onInterrupt(
  handlers: InterruptHandlers,
  {
    graceMs = repeatGraceMs,
    now = () => performance.now(),
    signals = ["SIGINT", "SIGTERM"],
  }: { graceMs?: number; now?: () => number; signals?: Deno.Signal[] } = {},
): () => void {
  let firstAt: number | undefined;
  const listeners = signals.map((signal) => {
    const listener = () => {
      if (firstAt === undefined) {
        firstAt = now();
        handlers.first(signal);
      } else if (now() - firstAt >= graceMs) {
        handlers.again(signal);
      }
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}
