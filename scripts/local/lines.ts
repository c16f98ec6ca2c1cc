/**
 * Reads a child process's output line by line as it arrives (a server's announcement, a runner's
 * progress), without waiting for the stream to end.
 *
 * @module
 */

/**
 * Calls `onLine` with each `\n`-terminated line of `stream`, as UTF-8 text without the `\n`,
 * until the stream ends.
 *
 * @returns what followed the last `\n` (empty when the stream ended with one).
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  }
  return pending;
}
