/**
 * The writing side of an HTTP/1.1 connection for the gateway's server: a `Response` as bytes,
 * framed by its Content-Length or by chunked coding.
 *
 * @module
 */
import { reasonPhrase } from "./http1_head.ts";

const encoder = new TextEncoder();
/** A body of known length up to this size is read whole and sent with its head in one write. */
const wholeBodyBytes = 64 * 1024;

/** Writes every byte of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

let dateCache = { second: -1, text: "" };
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateCache.second) dateCache = { second, text: new Date().toUTCString() };
  return dateCache.text;
}

/**
 * Writes `res` for a request of `method`; resolves whether the connection can carry another
 * request (false when the body's length was not what it declared).
 */
export async function writeResponse(
  conn: Deno.Conn,
  res: Response,
  method: string,
  keepAlive: boolean,
): Promise<boolean> {
  const noBody = method === "HEAD" || res.status === 204 || res.status === 304;
  let head = `HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\r\n`;
  let declared: number | undefined;
  for (const [name, value] of res.headers) {
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding") continue;
    if (name === "content-length") {
      if (res.status === 204 || res.status === 304) continue;
      declared = Number(value);
    }
    head += `${name}: ${value}\r\n`;
  }
  if (!res.headers.has("date")) head += `date: ${httpDate()}\r\n`;
  if (!keepAlive) head += "connection: close\r\n";
  if (noBody || res.body === null) {
    if (declared === undefined && !noBody) head += "content-length: 0\r\n";
    await res.body?.cancel();
    await writeAll(conn, encoder.encode(`${head}\r\n`));
    return keepAlive;
  }
  if (declared !== undefined && declared <= wholeBodyBytes) {
    // A small answer of known length (what functions send): one read, one write.
    const bytes = await res.bytes();
    await writeAll(conn, concat(encoder.encode(`${head}\r\n`), bytes));
    return keepAlive && bytes.length === declared;
  }
  const chunked = declared === undefined;
  if (chunked) head += "transfer-encoding: chunked\r\n";
  let pending: Uint8Array | undefined = encoder.encode(`${head}\r\n`);
  let sent = 0;
  for await (const chunk of res.body) {
    if (chunk.length === 0) continue;
    sent += chunk.length;
    const framed = chunked
      ? concat(
        concat(encoder.encode(`${chunk.length.toString(16)}\r\n`), chunk),
        encoder.encode("\r\n"),
      )
      : chunk;
    // The head goes out with the first chunk: one write for a small answer.
    await writeAll(conn, pending ? concat(pending, framed) : framed);
    pending = undefined;
  }
  const tail = chunked ? encoder.encode("0\r\n\r\n") : new Uint8Array();
  await writeAll(conn, pending ? concat(pending, tail) : tail);
  return keepAlive && (chunked || sent === declared);
}
