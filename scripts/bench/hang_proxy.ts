/**
 * A TCP proxy that can be told to hang: while `hang` is on it accepts connections and never
 * answers (and cuts the connections it was forwarding), the way a dependency behind a dead load
 * balancer behaves; off, it forwards bytes both ways. The fault benchmark puts it in front of the
 * KMS endpoint.
 *
 * @module
 */

/** A running proxy. */
export interface HangProxy {
  readonly port: number;
  /** Connections accepted while hanging. */
  readonly swallowed: number;
  /** Starts or stops hanging. */
  setHang(on: boolean): void;
  stop(): void;
}

/** Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`. */
export function startHangProxy(targetPort: number): HangProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let hang = false;
  let swallowed = 0;
  const close = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  const forward = async (client: Deno.Conn) => {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      close(client);
      return;
    }
    open.add(upstream);
    const pump = async (from: Deno.Conn, to: Deno.Conn) => {
      try {
        await from.readable.pipeTo(to.writable, { preventClose: false });
      } catch {
        // either side closed
      }
      close(from);
      close(to);
    };
    await Promise.all([pump(client, upstream), pump(upstream, client)]);
  };
  (async () => {
    for await (const conn of listener) {
      open.add(conn);
      if (hang) {
        swallowed++;
        // Read and drop: the client sees a connection that accepted and never answers.
        conn.readable.pipeTo(new WritableStream()).catch(() => {});
        continue;
      }
      forward(conn);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get swallowed() {
      return swallowed;
    },
    setHang(on) {
      hang = on;
      // Kept-alive connections would keep working: cut them, so every new request meets the hang.
      if (on) { for (const conn of [...open]) close(conn); }
    },
    stop() {
      listener.close();
      for (const conn of [...open]) close(conn);
    },
  };
}
