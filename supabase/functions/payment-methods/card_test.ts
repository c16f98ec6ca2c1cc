import { assertEquals } from "../../../tests/support/assert.ts";
import { cardBrand, luhnValid, normalizeCardNumber, scrubSecrets } from "./card.ts";

Deno.test("luhnValid() accepts test card numbers and rejects a changed digit", () => {
  for (
    const pan of ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117"]
  ) {
    assertEquals(luhnValid(pan), true, pan);
    const last = Number(pan.at(-1));
    assertEquals(luhnValid(pan.slice(0, -1) + String((last + 1) % 10)), false, pan);
  }
  assertEquals(luhnValid("42a2"), false);
});

Deno.test("normalizeCardNumber() allows single spaces or dashes between 12..19 digits", () => {
  assertEquals(normalizeCardNumber("4242 4242 4242 4242"), "4242424242424242");
  assertEquals(normalizeCardNumber("4242-4242-4242-4242"), "4242424242424242");
  assertEquals(normalizeCardNumber("4242  4242 4242 4242"), undefined);
  assertEquals(normalizeCardNumber("42424242424"), undefined);
  assertEquals(normalizeCardNumber("42424242424242424242"), undefined);
});

Deno.test("cardBrand() recognises the major brands by their leading digits", () => {
  assertEquals(cardBrand("4242424242424242"), "visa");
  assertEquals(cardBrand("5555555555554444"), "mastercard");
  assertEquals(cardBrand("2223003122003222"), "mastercard");
  assertEquals(cardBrand("378282246310005"), "amex");
  assertEquals(cardBrand("6011111111111117"), "discover");
  assertEquals(cardBrand("3566002020360505"), "jcb");
  assertEquals(cardBrand("30569309025904"), "diners");
  assertEquals(cardBrand("6200000000000005"), "unionpay");
  assertEquals(cardBrand("9999999999999995"), "unknown");
});

Deno.test("scrubSecrets() hides card numbers and long base64 tokens in a log line", () => {
  const line = scrubSecrets(
    "failed for 4242 4242 4242 4242 and 5555-5555-5555-4444 key=q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M= id 1234",
  );
  assertEquals(
    line,
    "failed for [redacted-number] and [redacted-number] key=[redacted-token] id 1234",
  );
});
