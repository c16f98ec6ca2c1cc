/**
 * The reading side of an HTTP/1.1 connection for the gateway's server: buffered reads with one
 * read in flight, and the request body framed by Content-Length or chunked coding as a stream.
 *
 * @module
 */
import type { RequestHead } from "./http1_head.ts";

const utf8 = new TextDecoder();

/** Buffered reads from a connection, one read in flight at a time (shared by every waiter). */
export class ConnReader {
  buffer = new Uint8Array(16 * 1024);
  start = 0;
  end = 0;
  eof = false;
  #pending: Promise<boolean> | undefined;

  constructor(readonly conn: Deno.Conn) {}

  get available(): number {
    return this.end - this.start;
  }

  /** Reads more bytes into the buffer; false at end of stream (or on a read error). */
  fill(): Promise<boolean> {
    if (this.eof) return Promise.resolve(false);
    this.#pending ??= this.#read().finally(() => this.#pending = undefined);
    return this.#pending;
  }

  async #read(): Promise<boolean> {
    if (this.start > 0 && this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buffer.length) {
      const live = this.buffer.subarray(this.start, this.end);
      const grown = new Uint8Array(Math.max(this.buffer.length, live.length * 2));
      grown.set(live);
      this.buffer = grown;
      this.end = live.length;
      this.start = 0;
    }
    try {
      const n = await this.conn.read(this.buffer.subarray(this.end));
      if (n === null) {
        this.eof = true;
        return false;
      }
      this.end += n;
      return true;
    } catch {
      this.eof = true;
      return false;
    }
  }

  /** Takes up to `max` buffered bytes (a copy). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.available);
    const out = this.buffer.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** Takes one CRLF-terminated line (without the CRLF), reading as needed; undefined at EOF. */
  async line(maxBytes: number): Promise<string | undefined> {
    for (;;) {
      const view = this.buffer.subarray(this.start, this.end);
      const lf = view.indexOf(10);
      if (lf > 0 && view[lf - 1] === 13) {
        const text = utf8.decode(view.subarray(0, lf - 1));
        this.start += lf + 1;
        return text;
      }
      if (this.available > maxBytes || !(await this.fill())) return undefined;
    }
  }
}

/** Thrown by a body stream whose framing is broken: the request gets a 400. */
export class MalformedBody extends Error {
  override name = "MalformedBody";
}

/** Where reading a request body stands. */
export interface BodyState {
  /** Read to its end. */
  done: boolean;
  /** Its framing broke (the answer is then a 400). */
  error?: MalformedBody;
  /** Called once, when the body is done or broken. */
  settled: () => void;
}

/** The request body as a stream, framed by `head`. */
export function bodyStream(
  reader: ConnReader,
  head: RequestHead,
  state: BodyState,
): ReadableStream<Uint8Array> {
  let remaining = head.contentLength ?? 0;
  let chunkLeft = 0;
  let trailers = false;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string) => {
    state.error = new MalformedBody(message);
    controller.error(state.error);
    state.settled();
  };
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    state.done = true;
    controller.close();
    state.settled();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!head.chunked) {
        if (remaining === 0) return finish(controller);
        if (reader.available === 0 && !(await reader.fill())) {
          return fail(controller, "the body ended before its Content-Length");
        }
        const bytes = reader.take(remaining);
        remaining -= bytes.length;
        controller.enqueue(bytes);
        if (remaining === 0) finish(controller);
        return;
      }
      if (chunkLeft === 0) {
        if (trailers) return;
        const size = await reader.line(1024);
        const match = size === undefined ? null : /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(size);
        if (!match) return fail(controller, "malformed chunk size line");
        chunkLeft = parseInt(match[1]!, 16);
        if (chunkLeft === 0) {
          trailers = true;
          for (;;) {
            const trailer = await reader.line(8192);
            if (trailer === undefined) return fail(controller, "malformed chunked trailer");
            if (trailer === "") break;
          }
          return finish(controller);
        }
      }
      if (reader.available === 0 && !(await reader.fill())) {
        return fail(controller, "the body ended inside a chunk");
      }
      const bytes = reader.take(chunkLeft);
      chunkLeft -= bytes.length;
      controller.enqueue(bytes);
      if (chunkLeft === 0 && (await reader.line(2)) !== "") {
        return fail(controller, "a chunk is not followed by CRLF");
      }
    },
  });
}
