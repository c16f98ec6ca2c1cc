/**
 * Reads the client → server half of the PostgreSQL wire protocol (v3) as it streams past, and
 * reports each query the client sends: a simple Query ('Q') or an extended-protocol Execute
 * ('E'). That is the database's own notion of "a query was run", independent of the client code.
 *
 * Only what counting needs is decoded: the untyped start-up packets (SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage), Parse/Bind to know which statement an Execute runs, Query's
 * text. Every other message is skipped by its length without being buffered, so COPY data of any
 * size streams through. A connection that switches to TLS becomes opaque and is reported so.
 *
 * @module
 */

/** What a parsed query looked like. */
export interface QueryEvent {
  kind: "simple" | "execute";
  /** SQL text (whitespace collapsed); empty when unknown. */
  text: string;
}

/**
 * A message that names a statement: Parse, Bind, Execute or a simple Query, with the SQL text it
 * refers to and, for Parse and Bind, the prepared statement's name ('' is the unnamed one).
 */
export interface StatementMessage {
  type: "parse" | "bind" | "execute" | "query";
  /** SQL text (whitespace collapsed); empty when unknown. */
  text: string;
  /** Parse/Bind: the statement name; '' for the unnamed statement. */
  statementName?: string;
}

/** Callbacks of {@link PgFrontendParser}. */
export interface ParserEvents {
  onQuery(event: QueryEvent): void;
  /** Every Parse, Bind, Execute and Query, for attributing round trips to statements. */
  onStatementMessage?(message: StatementMessage): void;
  /** Start-up parameters (user, database, application_name, ...). */
  onStartup?(params: Record<string, string>): void;
  /** The stream turned into TLS (or garbage): nothing more can be read. */
  onOpaque?(reason: string): void;
}

const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const cancelRequestCode = 80877102;
const protocol3 = 196608;
/** Messages whose body we decode; anything larger is counted but its text not kept. */
const maxDecodedBody = 1 << 20;
const decoder = new TextDecoder();
/** Message type → what {@link StatementMessage} calls it, for bodies too large to decode. */
const oversized: Record<string, StatementMessage["type"]> = {
  Q: "query",
  P: "parse",
  B: "bind",
  E: "execute",
};

function cString(bytes: Uint8Array, start: number): [text: string, next: number] {
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return [decoder.decode(bytes.subarray(start, end)), end + 1];
}

/** Collapses whitespace so the same statement always has the same text. */
export function normalizeSql(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Incremental parser of one connection's frontend byte stream. */
export class PgFrontendParser {
  #events: ParserEvents;
  #startup = true;
  #opaque = false;
  #buffer = new Uint8Array(0);
  /** Bytes of the current message still to skip without decoding. */
  #skip = 0;
  /** Prepared statement name → SQL text ('' is the unnamed statement). */
  #statements = new Map<string, string>();
  /** Portal name → statement name. */
  #portals = new Map<string, string>();

  constructor(events: ParserEvents) {
    this.#events = events;
  }

  /** Whether the stream became unreadable (TLS). */
  get opaque(): boolean {
    return this.#opaque;
  }

  /** Feeds the next chunk of client → server bytes. */
  push(chunk: Uint8Array): void {
    if (this.#opaque) return;
    let data = chunk;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, data.length);
      this.#skip -= n;
      data = data.subarray(n);
      if (data.length === 0) return;
    }
    if (this.#buffer.length > 0) {
      const joined = new Uint8Array(this.#buffer.length + data.length);
      joined.set(this.#buffer);
      joined.set(data, this.#buffer.length);
      data = joined;
    }
    let offset = 0;
    while (!this.#opaque) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, data.length - offset);
        this.#skip -= n;
        offset += n;
        if (this.#skip > 0) break;
      }
      const consumed = this.#startup
        ? this.#readStartup(data, offset)
        : this.#readMessage(data, offset);
      if (consumed === 0) break;
      offset += consumed;
    }
    this.#buffer = this.#opaque ? new Uint8Array(0) : data.slice(offset);
  }

  #becomeOpaque(reason: string): number {
    this.#opaque = true;
    this.#events.onOpaque?.(reason);
    return 0;
  }

  /** Reads one untyped start-up packet at `offset`; returns bytes consumed (0: need more). */
  #readStartup(data: Uint8Array, offset: number): number {
    if (data.length - offset < 1) return 0;
    // A TLS ClientHello starts with record type 0x16: the server accepted SSL.
    if (data[offset] === 0x16) return this.#becomeOpaque("TLS");
    if (data.length - offset < 8) return 0;
    const view = new DataView(data.buffer, data.byteOffset + offset);
    const length = view.getInt32(0);
    const code = view.getInt32(4);
    if (length < 8 || length > 10_000) return this.#becomeOpaque(`bad start-up length ${length}`);
    if (data.length - offset < length) return 0;
    if (code === sslRequestCode || code === gssEncRequestCode) return length; // still start-up
    if (code === cancelRequestCode) return length;
    if (code !== protocol3) return this.#becomeOpaque(`unknown protocol ${code}`);
    const params: Record<string, string> = {};
    let at = offset + 8;
    const end = offset + length;
    while (at < end && data[at] !== 0) {
      const [name, afterName] = cString(data, at);
      const [value, afterValue] = cString(data, afterName);
      params[name] = value;
      at = afterValue;
    }
    this.#events.onStartup?.(params);
    this.#startup = false;
    return length;
  }

  /** Reads one typed message at `offset`; returns bytes consumed (0: need more). */
  #readMessage(data: Uint8Array, offset: number): number {
    if (data.length - offset < 5) return 0;
    const type = String.fromCharCode(data[offset]!);
    const length = new DataView(data.buffer, data.byteOffset + offset + 1).getInt32(0);
    if (length < 4) return this.#becomeOpaque(`bad message length ${length}`);
    const total = 1 + length;
    const wanted = type === "Q" || type === "P" || type === "B" || type === "E";
    if (!wanted || length - 4 > maxDecodedBody) {
      if (type === "Q") this.#events.onQuery({ kind: "simple", text: "" });
      if (type === "E") this.#events.onQuery({ kind: "execute", text: "" });
      if (wanted) this.#events.onStatementMessage?.({ type: oversized[type]!, text: "" });
      const available = data.length - offset;
      if (available >= total) return total;
      this.#skip = total - available;
      return available;
    }
    if (data.length - offset < total) return 0;
    const body = data.subarray(offset + 5, offset + total);
    const message = this.#decode(type, body);
    if (message.type === "query" || message.type === "execute") {
      this.#events.onQuery({
        kind: message.type === "query" ? "simple" : "execute",
        text: message.text,
      });
    }
    this.#events.onStatementMessage?.(message);
    return total;
  }

  /** Decodes Q, P, B or E, remembering statements and portals. */
  #decode(type: string, body: Uint8Array): StatementMessage {
    switch (type) {
      case "Q":
        return { type: "query", text: normalizeSql(cString(body, 0)[0]) };
      case "P": {
        const [name, next] = cString(body, 0);
        const text = normalizeSql(cString(body, next)[0]);
        this.#statements.set(name, text);
        return { type: "parse", text, statementName: name };
      }
      case "B": {
        const [portal, next] = cString(body, 0);
        const name = cString(body, next)[0];
        this.#portals.set(portal, name);
        return { type: "bind", text: this.#statements.get(name) ?? "", statementName: name };
      }
      default: {
        const [portal] = cString(body, 0);
        const statement = this.#portals.get(portal);
        const text = statement === undefined ? "" : this.#statements.get(statement) ?? "";
        return { type: "execute", text };
      }
    }
  }
}
