import { assertEquals } from "../../tests/support/assert.ts";
import { readLines } from "./lines.ts";

/** A stream that yields `chunks` one by one. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

Deno.test("readLines() joins lines split across chunks, a character split across chunks included", async () => {
  const bytes = new TextEncoder().encode("one\ntwo €\nthree\nrest");
  const euro = bytes.indexOf(0xe2);
  const chunks = [bytes.slice(0, 2), bytes.slice(2, euro + 1), bytes.slice(euro + 1)];
  const lines: string[] = [];
  const rest = await readLines(streamOf(chunks), (line) => lines.push(line));
  assertEquals(lines, ["one", "two €", "three"]);
  assertEquals(rest, "rest");
});

Deno.test("readLines() returns nothing left over when the stream ends with a newline", async () => {
  const lines: string[] = [];
  const rest = await readLines(
    streamOf([new TextEncoder().encode("a\n\nb\n")]),
    (line) => lines.push(line),
  );
  assertEquals(lines, ["a", "", "b"]);
  assertEquals(rest, "");
});
