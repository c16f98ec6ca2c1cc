import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { parseRequestHead } from "./http1_head.ts";
import { type BodyState, bodyStream, ConnReader, MalformedBody } from "./http1_reader.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** The server end of a real TCP connection whose client end wrote `bytes` and closed. */
async function connectionWith(bytes: string): Promise<Deno.Conn> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await client.write(new TextEncoder().encode(bytes));
  client.close();
  const server = await accepted;
  listener.close();
  return server;
}

async function body(head: string, rest: string): Promise<{ text: string; state: BodyState }> {
  const conn = await connectionWith(rest);
  const state: BodyState = { done: false, settled: () => {} };
  try {
    const stream = bodyStream(
      new ConnReader(conn),
      parseRequestHead(new TextEncoder().encode(head)),
      state,
    );
    return { text: await new Response(stream).text(), state };
  } finally {
    conn.close();
  }
}

const post = (framing: string) => `POST / HTTP/1.1\r\nHost: h\r\n${framing}\r\n\r\n`;

Deno.test(
  "bodyStream() reads exactly Content-Length bytes, leaving what follows",
  opts,
  async () => {
    const conn = await connectionWith("hello worldGET / HTTP/1.1\r\n");
    const reader = new ConnReader(conn);
    const state: BodyState = { done: false, settled: () => {} };
    const head = parseRequestHead(new TextEncoder().encode(post("Content-Length: 11")));
    assertEquals(await new Response(bodyStream(reader, head, state)).text(), "hello world");
    assertEquals(state.done, true);
    assertEquals(new TextDecoder().decode(reader.take(reader.available)).startsWith("GET"), true);
    conn.close();
  },
);

Deno.test("bodyStream() decodes chunked coding with extensions and trailers", opts, async () => {
  const { text, state } = await body(
    post("Transfer-Encoding: chunked"),
    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
  );
  assertEquals([text, state.done, state.error], ["hello world", true, undefined]);
});

Deno.test(
  "bodyStream() fails a broken body with MalformedBody naming the problem",
  opts,
  async () => {
    for (
      const [framing, rest, message] of [
        ["Transfer-Encoding: chunked", "zz\r\n", "malformed chunk size line"],
        ["Transfer-Encoding: chunked", "3\r\nabcd\r\n0\r\n\r\n", "not followed by CRLF"],
        ["Transfer-Encoding: chunked", "5\r\nab", "ended inside a chunk"],
        ["Content-Length: 10", "short", "ended before its Content-Length"],
      ]
    ) {
      const error = await assertRejects(() => body(post(framing!), rest!), MalformedBody);
      assert(error.message.includes(message!), `${rest}: ${error.message}`);
    }
  },
);
