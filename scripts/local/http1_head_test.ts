import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { headEnd, parseRequestHead, refusalBytes, RequestRefused } from "./http1_head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const parse = (text: string) => parseRequestHead(bytes(text));
function refused(text: string | Uint8Array): RequestRefused {
  return assertThrows(
    () => parseRequestHead(typeof text === "string" ? bytes(text) : text),
    RequestRefused,
  );
}

Deno.test("parseRequestHead() reads method, target, fields and framing of a valid head", () => {
  const head = parse(
    "\r\nPOST /functions/v1/payment-methods?x=1 HTTP/1.1\r\nHost: 127.0.0.1:54321\r\n" +
      "Authorization: bearer a.b.c\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n",
  );
  assertEquals(
    [head.method, head.target, head.version, head.host, head.contentLength, head.chunked],
    ["POST", "/functions/v1/payment-methods?x=1", "1.1", "127.0.0.1:54321", 12, false],
  );
  assertEquals([head.keepAlive, head.expectContinue], [true, true]);
  assertEquals(head.headers[1], ["Authorization", "bearer a.b.c"]);
  const chunked = parse("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  assertEquals([chunked.chunked, chunked.contentLength], [true, undefined]);
  assertEquals(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive, false);
  assertEquals(parse("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assertEquals(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
  const latin = new Uint8Array([
    ...bytes("GET / HTTP/1.1\r\nHost: h\r\nX: "),
    0xe9,
    ...bytes("\r\n\r\n"),
  ]);
  assertEquals(parseRequestHead(latin).headers[1], ["X", "\u00e9"]);
});

Deno.test("parseRequestHead() refuses malformed heads with 400 naming the problem", () => {
  const cases: [string, string][] = [
    ["GARBAGE\r\n\r\n", "malformed request line"],
    ["GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", "malformed header field"],
    ["GET /x HTTP/1.1\r\nHost: a\r\nX : v\r\n\r\n", "malformed header field"],
    ["GET /x HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", "malformed header field"],
    ["GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "obsolete line folding"],
    ["GET /x HTTP/1.1\r\n\r\n", "missing Host header"],
    ["GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host header"],
    ["GET /x HTTP/1.1\r\nHost: a b\r\n\r\n", "malformed Host header"],
    ["GET x HTTP/1.1\r\nHost: a\r\n\r\n", "request target must be a path"],
    ["GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", "Content-Length"],
    ["POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", "Content-Length"],
    [
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "both Transfer-Encoding and Content-Length",
    ],
  ];
  for (const [text, message] of cases) {
    const error = refused(text);
    assertEquals([error.status, error.code], [400, "malformed_request"], JSON.stringify(text));
    assertEquals(
      error.message.includes(message),
      true,
      `${JSON.stringify(text)}: ${error.message}`,
    );
  }
});

Deno.test("parseRequestHead() answers 431, 501 and 505 for too large, unknown coding and version", () => {
  const big = refused(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(100 * 1024)}\r\n\r\n`);
  assertEquals([big.status, big.code], [431, "request_header_fields_too_large"]);
  const many = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join("");
  assertEquals(refused(`GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`).status, 431);
  const hundred = Array.from({ length: 99 }, (_, i) => `X-${i}: v\r\n`).join("");
  assertEquals(parse(`GET / HTTP/1.1\r\nHost: a\r\n${hundred}\r\n`).headers.length, 100);
  assertEquals(
    refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n").status,
    501,
  );
  assertEquals(refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status, 505);
  assertEquals(refused("GET / HTTP/9.9\r\nHost: a\r\n\r\n").code, "http_version_not_supported");
});

Deno.test("headEnd() finds the blank line ending a head", () => {
  const text = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY");
  assertEquals(headEnd(text, text.length), text.length - 4);
  assertEquals(headEnd(text, 20), -1);
});

Deno.test("refusalBytes() is a complete answer with a JSON body and Connection: close", () => {
  const text = new TextDecoder().decode(
    refusalBytes(new RequestRefused(405, "method_not_allowed", "no", { allow: "GET" })),
  );
  const [head, body] = text.split("\r\n\r\n");
  assertEquals(head!.split("\r\n")[0], "HTTP/1.1 405 Method Not Allowed");
  assertEquals(head!.includes("\r\nallow: GET\r\n"), true);
  assertEquals(head!.includes("\r\nconnection: close"), true);
  assertEquals(head!.includes(`content-length: ${body!.length}`), true);
  assertEquals(JSON.parse(body!), { error: { code: "method_not_allowed", message: "no" } });
});
