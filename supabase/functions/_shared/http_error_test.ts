import { z } from "zod";
import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { errorResponse, HttpError, invalidInput, parseInput, readJson } from "./http_error.ts";

Deno.test("errorResponse() echoes an HttpError's code, message and field", async () => {
  const res = errorResponse(new HttpError(422, "bad_thing", "thing is bad", { field: "thing" }));
  assertEquals(res.status, 422);
  assertEquals(await res.json(), {
    error: { code: "bad_thing", message: "thing is bad", field: "thing" },
  });
});

Deno.test("HttpError takes its field, headers and cause as options and echoes only the field", async () => {
  const cause = new Error("upstream said password=hunter2");
  const error = new HttpError(503, "busy", "retry shortly", {
    headers: { "retry-after": "3" },
    cause,
  });
  assertEquals([error.field, error.cause], [undefined, cause]);
  const res = errorResponse(error);
  assertEquals([res.status, res.headers.get("retry-after")], [503, "3"]);
  assertEquals(await res.json(), { error: { code: "busy", message: "retry shortly" } });
  assertEquals("cause" in new HttpError(400, "bad", "bad"), false);
});

Deno.test("errorResponse() answers 500 without internals for anything else", async () => {
  const logged: unknown[] = [];
  const res = errorResponse(
    new Error("connection to 10.0.0.1 password=hunter2 failed"),
    (_m, e) => logged.push(e),
  );
  assertEquals(res.status, 500);
  const text = await res.text();
  assertEquals(text.includes("hunter2"), false);
  assertEquals(JSON.parse(text), { error: { code: "internal_error", message: "internal error" } });
  assertEquals(logged.length, 1);
});

Deno.test("invalidInput() names the first failing field", () => {
  const result = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" } });
  if (result.success) throw new Error("expected failure");
  const error = invalidInput(result.error);
  assertEquals([error.status, error.field], [400, "a.b"]);
});

Deno.test("readJson() answers 415, 400 and 413 for the ways a body can be wrong", async () => {
  const post = (body: string, type = "application/json") =>
    new Request("http://x/", { method: "POST", body, headers: { "content-type": type } });
  const status = async (req: Request, max?: number) => {
    try {
      await readJson(req, max);
      return 200;
    } catch (error) {
      return (error as HttpError).status;
    }
  };
  assertEquals(await status(post("{}", "text/plain")), 415);
  assertEquals(await status(post("{nope")), 400);
  assertEquals(await status(post(JSON.stringify({ big: "x".repeat(100) })), 10), 413);
  assertEquals(await readJson(post('{"ok":true}')), { ok: true });
});

Deno.test("parseInput() names a stray key itself and any other issue by its path", () => {
  const schema = z.strictObject({ limit: z.number().int().default(20) });
  assertEquals(parseInput(schema, {}, "parameter"), { limit: 20 });
  const stray = assertThrows(() => parseInput(schema, { limt: 5 }, "parameter"), HttpError);
  assertEquals([stray.status, stray.field, stray.message], [
    400,
    "limt",
    "limt: unknown parameter",
  ]);
  const bad = assertThrows(() => parseInput(schema, { limit: 2.5 }, "field"), HttpError);
  assertEquals([bad.status, bad.field], [400, "limit"]);
});
