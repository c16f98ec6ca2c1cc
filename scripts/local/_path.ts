/** Converts a file: URL to a path (POSIX); Deno's std path module is not reachable here. */
export function fromFileUrl(url: URL): string {
  if (url.protocol !== "file:") {
    throw new TypeError(`expected a file: URL, received ${url.protocol}`);
  }
  return decodeURIComponent(url.pathname);
}
