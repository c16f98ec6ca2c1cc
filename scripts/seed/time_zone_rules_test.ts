import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { epochDay, intlTimeZoneRules, isoDate, localToUtc } from "./time_zone_rules.ts";

const utc = (
  zone: string,
  date: string,
  hhmm: string,
  window?: { first: number; last: number },
) => {
  const [h = 0, m = 0] = hhmm.split(":").map(Number);
  const ms = localToUtc(intlTimeZoneRules(window), zone, epochDay(date), h * 60 + m);
  return new Date(ms).toISOString();
};

// Transition dates from the zones' published rules: US second Sunday of March, EU last Sunday of
// March, New South Wales first Sunday of April.
Deno.test("localToUtc() follows DST on both sides of a transition", () => {
  assertEquals(utc("America/New_York", "2027-03-13", "08:00"), "2027-03-13T13:00:00.000Z");
  assertEquals(utc("America/New_York", "2027-03-14", "08:00"), "2027-03-14T12:00:00.000Z");
  assertEquals(utc("Europe/London", "2027-03-27", "09:30"), "2027-03-27T09:30:00.000Z");
  assertEquals(utc("Europe/London", "2027-03-28", "09:30"), "2027-03-28T08:30:00.000Z");
  assertEquals(utc("Australia/Sydney", "2027-04-03", "10:00"), "2027-04-02T23:00:00.000Z");
  assertEquals(utc("Australia/Sydney", "2027-04-04", "10:00"), "2027-04-04T00:00:00.000Z");
  assertEquals(utc("Asia/Kolkata", "2027-01-04", "23:55"), "2027-01-04T18:25:00.000Z");
});

Deno.test("localToUtc() resolves each time on a day whose window spans a transition", () => {
  const fullDay = { first: 0, last: 1439 };
  assertEquals(utc("America/New_York", "2027-03-14", "01:30", fullDay), "2027-03-14T06:30:00.000Z");
  assertEquals(utc("America/New_York", "2027-03-14", "05:00", fullDay), "2027-03-14T09:00:00.000Z");
});

Deno.test("epochDay() and isoDate() round-trip and reject malformed dates", () => {
  assertEquals(epochDay("1970-01-02"), 1);
  assertEquals(isoDate(epochDay("2027-01-04")), "2027-01-04");
  assertThrows(() => epochDay("2027-1-4"), RangeError, "YYYY-MM-DD");
  assertThrows(() => epochDay("yesterday"), RangeError, "YYYY-MM-DD");
});
