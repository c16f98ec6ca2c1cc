import { assertEquals } from "../../../tests/support/assert.ts";
import { luhnValid } from "./card.ts";
import { newCardSchema } from "./request.ts";

const now = new Date("2026-11-22T12:00:00Z");
const valid = {
  number: "4242 4242 4242 4242",
  exp_month: 11,
  exp_year: 2026,
  holder_name: "Ada Lovelace",
};

function issue(input: unknown) {
  const result = newCardSchema(now).safeParse(input);
  if (result.success) return undefined;
  const first = result.error.issues[0]!;
  return {
    path: first.path.join("."),
    message: first.message,
    all: JSON.stringify(result.error.issues),
  };
}

Deno.test("newCardSchema() accepts a card valid through the current month and derives brand and last4", () => {
  const result = newCardSchema(now).safeParse(valid);
  assertEquals(result.success, true);
  if (result.success) {
    assertEquals(result.data, {
      number: "4242424242424242",
      brand: "visa",
      last4: "4242",
      exp_month: 11,
      exp_year: 2026,
      holder_name: "Ada Lovelace",
    });
  }
});

Deno.test("newCardSchema() rejects a card that expired last month, by the injected clock", () => {
  assertEquals(issue({ ...valid, exp_month: 10 })?.message, "the card has expired");
  assertEquals(issue({ ...valid, exp_month: 10 })?.path, "exp_year");
  assertEquals(
    newCardSchema(new Date("2026-10-31T23:59:59Z")).safeParse({ ...valid, exp_month: 10 }).success,
    true,
  );
});

Deno.test("newCardSchema() names the field and never echoes the card number", () => {
  const luhn = issue({ ...valid, number: "4242424242424241" });
  assertEquals([luhn?.path, luhn?.message], ["number", "fails the Luhn check"]);
  assertEquals(luhn?.all.includes("4242424242424241"), false);
  assertEquals(issue({ ...valid, number: "4242" })?.message, "expected 13 to 19 digits");
  // Luhn-valid, but 12 digits (no brand issues such numbers) and an amex of 16.
  assertEquals([luhnValid("411111111117"), luhnValid("3782822463100003")], [true, true]);
  const twelve = issue({ ...valid, number: "411111111117" });
  assertEquals([twelve?.path, twelve?.message], ["number", "expected 13 to 19 digits"]);
  const amex16 = issue({ ...valid, number: "3782822463100003" });
  assertEquals([amex16?.path, amex16?.message], ["number", "an amex card number has 15 digits"]);
  assertEquals(issue({ ...valid, number: 4242424242424242 })?.path, "number");
  assertEquals(issue({ ...valid, exp_month: 13 })?.path, "exp_month");
  assertEquals(issue({ ...valid, exp_year: 26 })?.path, "exp_year");
  assertEquals(issue({ ...valid, holder_name: "  " })?.path, "holder_name");
  assertEquals(issue({ ...valid, holder_name: "Card 4242424242424242" })?.path, "holder_name");
  assertEquals(issue({ ...valid, cvv: "123" })?.message.includes("cvv"), true);
});
