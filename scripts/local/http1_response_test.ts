import { assert, assertEquals } from "../../tests/support/assert.ts";
import { writeResponse } from "./http1_response.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** What `writeResponse` puts on a real TCP connection, and whether it keeps the connection. */
async function wire(res: Response, method = "GET", keepAlive = true) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  const kept = await writeResponse(server, res, method, keepAlive);
  server.close();
  return { text: await new Response(client.readable).text(), kept };
}

Deno.test(
  "writeResponse() sends a body of known length with its head, in one piece",
  opts,
  async () => {
    const { text, kept } = await wire(
      new Response("abc", { status: 201, headers: { "content-length": "3", "x-a": "1" } }),
    );
    assert(text.startsWith("HTTP/1.1 201 Created\r\n"), text);
    assert(text.includes("\r\ncontent-length: 3\r\n") && text.includes("\r\nx-a: 1\r\n"), text);
    assert(text.endsWith("\r\n\r\nabc"), text);
    assertEquals(kept, true);
  },
);

Deno.test("writeResponse() sends a stream of unknown length chunked", opts, async () => {
  const parts = ["ab", "cde"].map((s) => new TextEncoder().encode(s));
  const stream = new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
  const { text } = await wire(new Response(stream), "GET", false);
  assert(text.includes("\r\ntransfer-encoding: chunked\r\n"), text);
  assert(text.includes("\r\nconnection: close\r\n"), text);
  assert(text.endsWith("\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"), text);
});

Deno.test(
  "writeResponse() sends no body for HEAD and 204, and drops hop-by-hop fields",
  opts,
  async () => {
    const head = await wire(new Response("abc", { headers: { "content-length": "3" } }), "HEAD");
    assert(head.text.includes("\r\ncontent-length: 3\r\n"), head.text);
    assertEquals(head.text.includes("abc"), false, "HEAD: the length, never the body");
    assert(head.text.endsWith("\r\n\r\n"), head.text);
    const empty = await wire(new Response(null, { status: 204, headers: { connection: "x" } }));
    assert(empty.text.startsWith("HTTP/1.1 204 No Content\r\n"), empty.text);
    assertEquals(empty.text.includes("connection:"), false);
    assertEquals(empty.text.includes("content-length"), false);
    assert(empty.text.endsWith("\r\n\r\n"));
    const mismatch = await wire(new Response("abcd", { headers: { "content-length": "3" } }));
    assertEquals(mismatch.kept, false, "a body longer than declared ends the connection");
  },
);
