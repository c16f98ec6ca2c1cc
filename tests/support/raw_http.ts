/**
 * Raw HTTP/1.1 exchanges over TCP, for the requests `fetch` will not send: a forbidden method
 * (TRACE, CONNECT), a malformed head, a 100 KB header field.
 *
 * @module
 */

/** An answer as read off the wire. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  /** The body as sent (chunked coding undone). */
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
  /** Everything the server sent (every answer, when requests were pipelined). */
  raw: string;
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/**
 * Sends `request` (raw bytes or text) to 127.0.0.1:`port` and reads until the server closes the
 * connection or `waitMs` passes.
 */
export async function rawExchange(
  port: number,
  request: string | Uint8Array,
  waitMs = 2000,
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
  let closed = false;
  let text = "";
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, waitMs);
  try {
    // A server may answer (and close) before the whole request is written.
    await conn.write(bytes).catch(() => 0);
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) {
        closed = !timedOut;
        break;
      }
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer or the server */ }
  }
  const split = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, split < 0 ? text.length : split).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const raw = split < 0 ? "" : text.slice(split + 4);
  const body = headers.get("transfer-encoding") === "chunked" ? dechunk(raw) : raw;
  return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body, closed, raw: text };
}
