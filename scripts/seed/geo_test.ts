import { assert } from "../../tests/support/assert.ts";
import { blockMinutes, greatCircleKm, isEastbound } from "./geo.ts";

const lhr = { latitude: 51.4706, longitude: -0.461941 };
const jfk = { latitude: 40.639801, longitude: -73.7789 };
const syd = { latitude: -33.946098, longitude: 151.177002 };
const lax = { latitude: 33.942501, longitude: -118.407997 };

const near = (actual: number, expected: number, tolerance: number) =>
  assert(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );

// Reference great-circle distances as published for these airport pairs (spherical earth).
Deno.test("greatCircleKm() matches published airport distances", () => {
  near(greatCircleKm(lhr, jfk), 5540, 15);
  near(greatCircleKm(syd, lax), 12051, 30);
  near(greatCircleKm(lhr, lhr), 0, 1e-9);
});

Deno.test("isEastbound() takes the shorter way round, across the antimeridian too", () => {
  assert(isEastbound(jfk, lhr));
  assert(!isEastbound(lhr, jfk));
  assert(isEastbound(syd, lax), "Sydney → Los Angeles crosses the antimeridian eastwards");
});

Deno.test("blockMinutes() grows with distance, favours eastbound and rounds to 5 minutes", () => {
  let previous = 0;
  for (const km of [150, 500, 1000, 3000, 6000, 10000, 15000]) {
    const west = blockMinutes(km, false);
    const east = blockMinutes(km, true);
    assert(west > previous, `not increasing at ${km} km`);
    assert(east <= west, `eastbound slower at ${km} km`);
    assert(west % 5 === 0 && east % 5 === 0, "not in 5-minute steps");
    previous = west;
  }
  // London–New York is scheduled at roughly 7-8 hours westbound.
  const westbound = blockMinutes(greatCircleKm(lhr, jfk), false);
  assert(westbound >= 7 * 60 && westbound <= 8 * 60 + 30, `${westbound} min`);
});
