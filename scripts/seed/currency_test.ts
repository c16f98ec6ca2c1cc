import { assertEquals } from "../../tests/support/assert.ts";
import { currencyFor, toMinorUnits } from "./currency.ts";

Deno.test("currencyFor() maps euro countries to EUR and the rest of the world to USD", () => {
  assertEquals(currencyFor("DE").code, "EUR");
  assertEquals(currencyFor("GB").code, "GBP");
  assertEquals(currencyFor("JP").code, "JPY");
  assertEquals(currencyFor("BR").code, "USD");
});

Deno.test("toMinorUnits() rounds to whole major units, to hundreds without minor units", () => {
  assertEquals(toMinorUnits(123.4, currencyFor("US")), 12300);
  assertEquals(toMinorUnits(0.2, currencyFor("US")), 100);
  // 1 USD = 150 JPY here: 123.4 USD = 18,510 JPY, filed as 18,500 with no minor unit.
  assertEquals(toMinorUnits(123.4, currencyFor("JP")), 18500);
});
