import { assertEquals } from "../../../tests/support/assert.ts";
import { luhnValid } from "./card.ts";
import { brandLengths, cardNumberProblem, cardNumberSchema } from "./card_number.ts";

/** `prefix` padded with zeros to `length` digits, the last one the Luhn check digit. */
function pan(prefix: string, length: number): string {
  const body = prefix.padEnd(length - 1, "0");
  const digit = [...Array(10).keys()].find((d) => luhnValid(`${body}${d}`))!;
  return `${body}${digit}`;
}

const accepted = (prefix: string, lengths: number[]) =>
  lengths.filter((n) => cardNumberProblem(pan(prefix, n)) === undefined);
const allLengths = [...Array(12).keys()].map((i) => i + 11); // 11..22

Deno.test("cardNumberProblem() accepts each brand at its ISO/IEC 7812 lengths only", () => {
  assertEquals(accepted("4", allLengths), [13, 16, 19], "visa");
  assertEquals(accepted("51", allLengths), [16], "mastercard 51");
  assertEquals(accepted("2221", allLengths), [16], "mastercard 2-series");
  assertEquals(accepted("34", allLengths), [15], "amex 34");
  assertEquals(accepted("37", allLengths), [15], "amex 37");
  assertEquals(accepted("6011", allLengths), [16, 17, 18, 19], "discover");
  assertEquals(accepted("36", allLengths), [14, 15, 16, 17, 18, 19], "diners");
  assertEquals(accepted("3528", allLengths), [16, 17, 18, 19], "jcb");
  assertEquals(accepted("62", allLengths), [16, 17, 18, 19], "unionpay");
  assertEquals(accepted("50", allLengths), [13, 14, 15, 16, 17, 18, 19], "maestro");
  assertEquals(accepted("9", allLengths), [13, 14, 15, 16, 17, 18, 19], "unknown");
  assertEquals(brandLengths.visa, [13, 16, 19]);
});

Deno.test("cardNumberProblem() names what is wrong without the number", () => {
  const twelve = pan("4111", 12);
  assertEquals(luhnValid(twelve), true);
  assertEquals(cardNumberProblem(twelve), "expected 13 to 19 digits");
  assertEquals(cardNumberProblem(pan("34", 16)), "an amex card number has 15 digits");
  assertEquals(cardNumberProblem(pan("4", 15)), "a visa card number has 13, 16 or 19 digits");
  assertEquals(
    cardNumberProblem(pan("6011", 15)),
    "a discover card number has 16 to 19 digits",
  );
  assertEquals(cardNumberProblem("4242424242424241"), "fails the Luhn check");
  assertEquals(cardNumberProblem("4242424242424242"), undefined);
});

Deno.test("cardNumberSchema accepts grouped digits and refuses a 12-digit Luhn-valid number", () => {
  assertEquals(cardNumberSchema.parse("4242 4242 4242 4242"), "4242424242424242");
  assertEquals(cardNumberSchema.parse("3782-822463-10005"), "378282246310005");
  const twelve = pan("4111", 12);
  const result = cardNumberSchema.safeParse(twelve);
  assertEquals(result.success, false);
  assertEquals(result.error?.issues[0]?.message, "expected 13 to 19 digits");
  assertEquals(JSON.stringify(result.error?.issues).includes(twelve), false);
  assertEquals(cardNumberSchema.safeParse("4242").success, false);
  assertEquals(cardNumberSchema.safeParse(4242424242424242).success, false);
});
