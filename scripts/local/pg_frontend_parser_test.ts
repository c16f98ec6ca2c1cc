import { assertEquals } from "../../tests/support/assert.ts";
import { PgFrontendParser, type QueryEvent } from "./pg_frontend_parser.ts";

const encoder = new TextEncoder();

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const cstr = (s: string) => concat(encoder.encode(s), new Uint8Array([0]));
const message = (type: string, body: Uint8Array) =>
  concat(encoder.encode(type), int32(body.length + 4), body);
const startup = (params: Record<string, string>) => {
  const body = concat(
    int32(196608),
    ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]),
    new Uint8Array([0]),
  );
  return concat(int32(body.length + 4), body);
};

function stream(): Uint8Array {
  return concat(
    concat(int32(8), int32(80877103)), // SSLRequest (server says N)
    startup({ user: "postgres", application_name: "flight-search" }),
    message("p", cstr("secret-password")),
    message("Q", cstr("select 1;\n  select 2")),
    message(
      "P",
      concat(cstr(""), cstr("select *\n from flights where id = $1"), new Uint8Array(2)),
    ),
    message("B", concat(cstr(""), cstr(""), new Uint8Array(6))),
    message("D", concat(encoder.encode("P"), cstr(""))),
    message("E", concat(cstr(""), int32(0))),
    message("S", new Uint8Array(0)),
    message("d", new Uint8Array(50_000)), // CopyData: skipped unbuffered
    message("E", concat(cstr(""), int32(0))),
    message("X", new Uint8Array(0)),
  );
}

function parse(chunks: Uint8Array[]) {
  const queries: QueryEvent[] = [];
  let params: Record<string, string> = {};
  const parser = new PgFrontendParser({
    onQuery: (q) => queries.push(q),
    onStartup: (p) => (params = p),
  });
  for (const chunk of chunks) parser.push(chunk);
  return { queries, params, opaque: parser.opaque };
}

Deno.test("PgFrontendParser counts Query and Execute messages and names their SQL", () => {
  const { queries, params, opaque } = parse([stream()]);
  assertEquals(opaque, false);
  assertEquals(params.application_name, "flight-search");
  assertEquals(queries, [
    { kind: "simple", text: "select 1; select 2" },
    { kind: "execute", text: "select * from flights where id = $1" },
    { kind: "execute", text: "select * from flights where id = $1" },
  ]);
});

Deno.test("PgFrontendParser gives the same answer however the stream is split", () => {
  const bytes = stream();
  const whole = parse([bytes]);
  for (const size of [1, 2, 3, 5, 7, 64, 4096]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
    assertEquals(parse(chunks), whole, `chunks of ${size}`);
  }
});

Deno.test("PgFrontendParser marks a connection that switched to TLS as opaque", () => {
  const { queries, opaque } = parse([
    concat(int32(8), int32(80877103)),
    new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]),
  ]);
  assertEquals([queries.length, opaque], [0, true]);
});
