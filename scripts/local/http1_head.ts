/**
 * The head of an HTTP/1.1 request (request line and header fields, RFC 9112), parsed and checked
 * by the local gateway's own server before anything else sees it, and the JSON answer for a head
 * that is refused.
 *
 * Why not `Deno.serve`: its parser (hyper) answers a malformed head itself — a request target
 * CONNECT cannot use, a header line without a colon, 64 KiB of header fields — with a 400 and an
 * empty body, before any handler or `onError` runs. A client then learns nothing about what it got
 * wrong. Every refusal here is a JSON error body naming the problem.
 *
 * @module
 */

/** A request head that passed every check. */
export interface RequestHead {
  method: string;
  /** The request target as sent: a path (origin-form), `*`, or an absolute URL. */
  target: string;
  version: "1.0" | "1.1";
  /** Field lines in order, names as sent. */
  headers: [string, string][];
  /** The body's length when framed by Content-Length. */
  contentLength?: number;
  /** Whether the body is framed by chunked transfer coding. */
  chunked: boolean;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** `Expect: 100-continue`: the client waits for an interim answer before sending its body. */
  expectContinue: boolean;
  host: string;
}

/** Limits of {@link parseRequestHead}. */
export interface HeadLimits {
  /** Most bytes of request line plus field lines (with CRLFs). @default 32768 */
  maxHeadBytes?: number;
  /** Most field lines. @default 100 */
  maxHeaders?: number;
}

/** A request refused before it reaches a handler: the status, a stable code and a message. */
export class RequestRefused extends Error {
  override name = "RequestRefused";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Default limits: 32 KiB of head, 100 field lines (hyper's count). */
export const defaultHeadLimits: Required<HeadLimits> = { maxHeadBytes: 32 * 1024, maxHeaders: 100 };

const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const requestLine = new RegExp(`^(${token}) ([^\\x00-\\x20\\x7f]+) HTTP/(\\d)\\.(\\d)$`);
const fieldLine = new RegExp(`^(${token}):[ \\t]*([^\\x00-\\x08\\x0a-\\x1f\\x7f]*?)[ \\t]*$`);
const hostValue = /^[A-Za-z0-9._~%!$&'()*+,;=:[\]-]*$/;

const framingFields = new Set([
  "host",
  "transfer-encoding",
  "content-length",
  "connection",
  "expect",
]);
const utf8 = new TextDecoder();

function malformed(message: string): RequestRefused {
  return new RequestRefused(400, "malformed_request", message);
}

/**
 * Where the head in `buffer[0, length)` ends (the index after its blank line), or -1 when it is
 * not complete yet.
 */
export function headEnd(buffer: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (
      buffer[i] === 10 && buffer[i - 1] === 13 && buffer[i - 2] === 10 && buffer[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

/** Bytes as ISO-8859-1 text: a field value may carry obs-text (0x80–0xFF), one char per byte. */
function latin1(bytes: Uint8Array): string {
  let ascii = true;
  for (const b of bytes) {
    if (b > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return utf8.decode(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

function parseContentLength(values: string[]): number {
  const all = values.flatMap((v) => v.split(",").map((s) => s.trim()));
  if (all.some((v) => !/^\d{1,15}$/.test(v)) || new Set(all.map(Number)).size !== 1) {
    throw malformed("Content-Length must be one non-negative integer");
  }
  return Number(all[0]);
}

function tokens(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * Parses and checks a complete head (request line, field lines, blank line).
 *
 * @throws {RequestRefused} 400 for a malformed line or framing, 431 for too many or too large
 * fields, 501 for an unsupported transfer coding, 505 for another HTTP version.
 */
export function parseRequestHead(bytes: Uint8Array, limits: HeadLimits = {}): RequestHead {
  const { maxHeadBytes, maxHeaders } = { ...defaultHeadLimits, ...limits };
  if (bytes.length > maxHeadBytes) throw tooLarge(maxHeadBytes);
  const lines = latin1(bytes).split("\r\n");
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  while (lines[0] === "") lines.shift();
  const first = requestLine.exec(lines[0] ?? "");
  if (!first) throw malformed("malformed request line: expected 'METHOD target HTTP/1.1'");
  const [, method, target, major, minor] = first as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (major !== "1" || (minor !== "0" && minor !== "1")) {
    throw new RequestRefused(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1");
  }
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === "") break;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw malformed("obsolete line folding in header fields");
    }
    const field = fieldLine.exec(line);
    if (!field) throw malformed("malformed header field: expected 'Name: value'");
    headers.push([field[1]!, field[2]!]);
    if (headers.length > maxHeaders) {
      throw new RequestRefused(
        431,
        "request_header_fields_too_large",
        `more than ${maxHeaders} header fields`,
      );
    }
  }
  return frame(method, target, minor === "1" ? "1.1" : "1.0", headers);
}

function tooLarge(maxHeadBytes: number): RequestRefused {
  return new RequestRefused(
    431,
    "request_header_fields_too_large",
    `request line and header fields exceed ${maxHeadBytes} bytes`,
  );
}

/** The 431 for a head still incomplete after `maxHeadBytes`. */
export function headTooLarge(limits: HeadLimits = {}): RequestRefused {
  return tooLarge(limits.maxHeadBytes ?? defaultHeadLimits.maxHeadBytes);
}

function frame(
  method: string,
  target: string,
  version: "1.0" | "1.1",
  headers: [string, string][],
): RequestHead {
  // One pass over the fields for the few that frame the request.
  const framing = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (framingFields.has(key)) framing.set(key, [...(framing.get(key) ?? []), value]);
  }
  const all = (name: string) => framing.get(name) ?? [];
  const hosts = all("host");
  if (hosts.length > 1) throw malformed("more than one Host header");
  if (version === "1.1" && hosts.length === 0) throw malformed("missing Host header");
  const host = hosts[0] ?? "";
  if (!hostValue.test(host)) throw malformed("malformed Host header");
  if (
    !(target.startsWith("/") || (target === "*" && method === "OPTIONS") ||
      /^https?:\/\//i.test(target) || method === "CONNECT")
  ) {
    throw malformed("request target must be a path beginning with '/'");
  }

  const te = all("transfer-encoding");
  const cl = all("content-length");
  let chunked = false;
  let contentLength: number | undefined;
  if (te.length > 0) {
    // Both framings at once is how requests are smuggled past a proxy: refuse it.
    if (cl.length > 0) throw malformed("both Transfer-Encoding and Content-Length");
    if (version === "1.0") throw malformed("Transfer-Encoding in an HTTP/1.0 request");
    const codings = tokens(te);
    if (codings.length !== 1 || codings[0] !== "chunked") {
      throw new RequestRefused(
        501,
        "not_implemented",
        "the only transfer coding served is 'chunked'",
      );
    }
    chunked = true;
  } else if (cl.length > 0) {
    contentLength = parseContentLength(cl);
  }

  const connection = tokens(all("connection"));
  const keepAlive = version === "1.1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  const expectContinue = all("expect").some((v) => v.trim().toLowerCase() === "100-continue");
  return {
    method,
    target,
    version,
    headers,
    chunked,
    keepAlive,
    expectContinue,
    host,
    ...(contentLength !== undefined ? { contentLength } : {}),
  };
}

const encoder = new TextEncoder();

/**
 * The raw bytes of the JSON answer to a refused request, closing the connection: after a
 * malformed head the rest of the stream cannot be trusted to frame another request.
 *
 * @example
 * ```ts
 * refusalBytes(new RequestRefused(400, "malformed_request", "missing Host header"));
 * // HTTP/1.1 400 Bad Request … {"error":{"code":"malformed_request","message":"missing Host header"}}
 * ```
 */
export function refusalBytes(refused: RequestRefused): Uint8Array {
  const body = JSON.stringify({ error: { code: refused.code, message: refused.message } });
  const extra = Object.entries(refused.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return encoder.encode(
    `HTTP/1.1 ${refused.status} ${reasonPhrase(refused.status)}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${encoder.encode(body).length}\r\n` +
      `${extra}connection: close\r\n\r\n${body}`,
  );
}

const reasons: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The reason phrase for `status` (empty when unknown: the phrase is optional, RFC 9112 §4). */
export function reasonPhrase(status: number): string {
  return reasons[status] ?? "";
}
