/**
 * Port checks with messages a person can act on.
 *
 * @module
 */

/** Thrown when a port the stack needs is taken. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(readonly port: number, readonly purpose: string, hint: string) {
    super(`port ${port} (${purpose}) is already in use on 127.0.0.1. ${hint}`);
  }
}

/**
 * Throws {@link PortInUseError} naming `purpose` when `port` cannot be bound on 127.0.0.1.
 *
 * @param hint What the person can do about it (another `npm start` running, an env var to pick
 * another port).
 */
export function assertPortFree(port: number, purpose: string, hint: string): void {
  let listener: Deno.Listener | undefined;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw new PortInUseError(port, purpose, hint);
    throw error;
  } finally {
    listener?.close();
  }
}

/** A port that was free a moment ago, chosen by the kernel. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  { timeoutMs = 30_000, intervalMs = 50, signal }: {
    timeoutMs?: number;
    intervalMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    signal?.throwIfAborted();
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
