/**
 * Which request methods the gateway forwards to a function, and the answer for every other.
 *
 * `fetch` refuses to send CONNECT, TRACE and TRACK (forbidden methods of the Fetch standard), so
 * forwarding them failed as 502 `function_unreachable`; and no function serves a method outside
 * the standard set. The gateway answers those itself with 405 and an `Allow` listing what it
 * forwards; a function answers 405 with its own, narrower, `Allow` for a forwarded method it does
 * not serve.
 *
 * @module
 */

/** Methods the gateway forwards, as its `Allow` header lists them. */
export const forwardedMethods: readonly string[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

const forwarded = new Set(forwardedMethods);

/** Whether the gateway forwards `method` (methods are case-sensitive, RFC 9110 §9.1). */
export function isForwarded(method: string): boolean {
  return forwarded.has(method);
}

/**
 * The 405 answer for a method the gateway does not forward: a JSON error naming the method and
 * an `Allow` header.
 *
 * @example
 * ```ts
 * methodNotAllowed("TRACE").headers.get("allow"); // "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
 * ```
 */
export function methodNotAllowed(method: string): Response {
  const allow = forwardedMethods.join(", ");
  // The method is echoed only when it is a plain token: it comes straight from the client.
  const named = /^[A-Za-z]{1,20}$/.test(method)
    ? `${method} is not supported`
    : "method not supported";
  return new Response(
    JSON.stringify({ error: { code: "method_not_allowed", message: `${named}; use ${allow}` } }),
    { status: 405, headers: { "content-type": "application/json; charset=utf-8", allow } },
  );
}
