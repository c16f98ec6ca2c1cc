import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { createPrng } from "./prng.ts";
import { referenceData } from "./reference_data.ts";
import { intlTimeZoneRules } from "./time_zone_rules.ts";
import { apportion, buildTimetable, departureWindow } from "./timetable.ts";

Deno.test("apportion() splits a total by weight, exactly and within the cap", () => {
  assertEquals(apportion(10, [1, 1]), [5, 5]);
  assertEquals(apportion(10, [3, 1]), [8, 2]);
  assertEquals(apportion(7, [1, 1, 1]), [3, 2, 2]);
  assertEquals(apportion(10, [100, 1, 1], 4), [4, 3, 3]);
  assertEquals(apportion(0, [1, 2]), [0, 0]);
  assertThrows(() => apportion(10, [1, 1], 4), RangeError, "at most 4");
});

const timetable = (servicesPerDay: number, seed = 42) =>
  buildTimetable(referenceData(), {
    servicesPerDay,
    prng: createPrng(seed),
    rules: intlTimeZoneRules(departureWindow),
    referenceDay: 20822,
  });

Deno.test("buildTimetable() builds exactly the services asked for, hub-and-spoke", () => {
  for (const count of [1, 2, 3, 357, 2000]) {
    const services = timetable(count);
    assertEquals(services.length, count);
    for (const s of services) {
      assert(
        s.airline.hubs.includes(s.origin.iata) || s.airline.hubs.includes(s.destination.iata),
        `${s.airline.iata}${s.flightNumber} ${s.origin.iata}-${s.destination.iata} touches no hub`,
      );
      assert(s.origin !== s.destination);
      assert(s.flightNumber >= 1 && s.flightNumber <= 9999);
      assert(
        s.departureMinute >= departureWindow.first && s.departureMinute <= departureWindow.last,
      );
      assert(s.blockMinutes > 0 && s.blockMinutes <= 20 * 60, `${s.blockMinutes} min`);
      assertEquals(s.cabins[0], "economy");
    }
  }
});

Deno.test("buildTimetable() gives busy pairs several flights a day and numbers each flight once", () => {
  const services = timetable(2000);
  const perRoute = new Map<string, number>();
  const numbers = new Set<string>();
  for (const s of services) {
    const route = `${s.origin.iata}-${s.destination.iata}`;
    perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
    const number = `${s.airline.iata}${s.flightNumber}`;
    assert(!numbers.has(number), `${number} used twice`);
    numbers.add(number);
  }
  const busiest = Math.max(...perRoute.values());
  assert(busiest >= 5, `busiest route has only ${busiest} flights a day`);
  assert(perRoute.size < services.length / 2, "flights are spread one per route");
});
