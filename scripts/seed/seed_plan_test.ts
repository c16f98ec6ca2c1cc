import { assert, assertEquals, assertNotEquals } from "../../tests/support/assert.ts";
import { fareCopyRows, flightCopyRows } from "./copy_rows.ts";
import { faresFor } from "./fares.ts";
import { parseSeedOptions, type SeedOptions } from "./options.ts";
import { plannedFlights, planSeed } from "./seed_plan.ts";

async function digest(rows: Iterable<string>): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode([...rows].join("")));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function rowsDigest(options: Partial<SeedOptions>): Promise<[string, string]> {
  const plan = planSeed(parseSeedOptions(options));
  return [await digest(flightCopyRows(plan)), await digest(fareCopyRows(plan))];
}

Deno.test("planSeed() gives byte-identical rows for the same options", async () => {
  const options = { flights: 3000, seed: 7 };
  assertEquals(await rowsDigest(options), await rowsDigest(options));
});

Deno.test("planSeed() gives different rows for a different seed or start date", async () => {
  const [flights, fares] = await rowsDigest({ flights: 3000, seed: 7 });
  const [otherFlights, otherFares] = await rowsDigest({ flights: 3000, seed: 8 });
  assertNotEquals(flights, otherFlights);
  assertNotEquals(fares, otherFares);
  const [laterFlights] = await rowsDigest({ flights: 3000, seed: 7, startDate: "2027-02-01" });
  assertNotEquals(flights, laterFlights);
});

Deno.test("plannedFlights() yields exactly the flights asked for, every day covered", () => {
  for (const [flights, days] of [[1, 14], [13, 14], [1000, 7], [3001, 14]] as const) {
    const plan = planSeed(parseSeedOptions({ flights, days }));
    const all = [...plannedFlights(plan)];
    assertEquals(all.length, flights);
    assertEquals(all.map((f) => f.id), all.map((_, i) => i + 1));
    if (flights >= days) assertEquals(new Set(all.map((f) => f.departureDate)).size, days);
  }
});

Deno.test("plannedFlights() rows satisfy the schema's constraints", () => {
  const options = parseSeedOptions({ flights: 4000, days: 10, seed: 3 });
  const plan = planSeed(options);
  const numbers = new Set<string>();
  let fareCount = 0;
  for (const f of plannedFlights(plan)) {
    const s = f.service;
    const key = `${s.airline.iata}|${s.flightNumber}|${f.departureDate}`;
    assert(!numbers.has(key), `flights_number_per_day violated by ${key}`);
    numbers.add(key);
    assert(s.origin.iata !== s.destination.iata, "flights_distinct_airports");
    assert(f.arrivalAt > f.departureAt, "flights_arrives_after_departure");
    assert(f.arrivalAt - f.departureAt <= 20 * 3_600_000, "flights_duration_plausible");
    assert(s.flightNumber >= 1 && s.flightNumber <= 9999, "flight_number range");
    assert(s.aircraft.length >= 2 && s.aircraft.length <= 40, "aircraft length");

    const fares = faresFor(s, f.id, options.seed);
    fareCount += fares.length;
    assert(fares.length >= 2 && fares.length <= 6, `${fares.length} fares on flight ${f.id}`);
    assert(fares.some((x) => x.cabin === "economy"), `no economy fare on flight ${f.id}`);
    assertEquals(new Set(fares.map((x) => `${x.cabin}|${x.fareClass}`)).size, fares.length);
    for (const fare of fares) {
      assert(/^[A-Z]$/.test(fare.fareClass), fare.fareClass);
      assert(/^[A-Z]{3}$/.test(fare.currency), fare.currency);
      assert(Number.isInteger(fare.priceMinor) && fare.priceMinor > 0, `${fare.priceMinor}`);
      assert(fare.priceMinor < 2 ** 31, "price fits an integer column");
      assert(Number.isInteger(fare.seatsLeft) && fare.seatsLeft >= 0 && fare.seatsLeft < 2 ** 15);
    }
    // Within a cabin a more flexible class never costs less.
    for (const cabin of new Set(fares.map((x) => x.cabin))) {
      const prices = fares.filter((x) => x.cabin === cabin).map((x) => x.priceMinor);
      assertEquals(prices, [...prices].sort((a, b) => b - a));
    }
  }
  assert(fareCount >= 2 * 4000);
});
