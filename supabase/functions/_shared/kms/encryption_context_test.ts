import { assertEquals, assertThrows } from "../../../../tests/support/assert.ts";
import { canonicalContext } from "./encryption_context.ts";

Deno.test("canonicalContext() sorts keys so any order gives the same bytes", () => {
  const a = canonicalContext({ user_id: "u1", purpose: "card", payment_method_id: "p1" });
  const b = canonicalContext({ payment_method_id: "p1", purpose: "card", user_id: "u1" });
  assertEquals(a, '{"payment_method_id":"p1","purpose":"card","user_id":"u1"}');
  assertEquals(a, b);
});

Deno.test("canonicalContext() rejects empty, reserved or oversized contexts without echoing values", () => {
  assertThrows(() => canonicalContext({}), TypeError, "1..10 pairs");
  assertThrows(() => canonicalContext({ "User Id": "x" }), TypeError, "'User Id'");
  assertThrows(() => canonicalContext({ aws_thing: "x" }), TypeError, "aws_thing");
  const error = assertThrows(
    () => canonicalContext({ note: "4242424242424242".repeat(20) }),
    TypeError,
  );
  assertEquals(error.message.includes("4242"), false);
  assertThrows(() => canonicalContext({ note: "" }), TypeError, "'note'");
});
