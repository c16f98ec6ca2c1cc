import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { parseReferenceData, referenceData } from "./reference_data.ts";

Deno.test("referenceData() validates the committed airports and airlines", () => {
  const { airports, airlines } = referenceData();
  assert(airports.length >= 200, `only ${airports.length} airports`);
  assert(airlines.length >= 50 && airlines.length <= 80, `${airlines.length} airlines`);
  const alliances = new Set(airlines.map((a) => a.alliance));
  assertEquals([...alliances].sort(), [null, "oneworld", "skyteam", "star_alliance"].sort());
});

const airport = {
  iata: "AAA",
  name: "A Airport",
  city: "A",
  country: "US",
  timeZone: "America/New_York",
  latitude: 1,
  longitude: 2,
  tier: 1,
};
const airline = {
  iata: "A1",
  name: "A Air",
  country: "US",
  alliance: null,
  tier: 1,
  hubs: ["AAA"],
  lowCost: false,
};
const other = { ...airport, iata: "BBB" };

Deno.test("parseReferenceData() accepts a minimal valid set", () => {
  parseReferenceData({ airports: [airport, other], airlines: [airline] });
});

Deno.test("parseReferenceData() rejects what the schema's CHECKs would, naming the entry", () => {
  const cases: Array<[unknown, string]> = [
    [{ airports: [{ ...airport, iata: "aaa" }, other], airlines: [] }, "airports.0.iata"],
    [
      { airports: [airport, { ...other, country: "USA" }], airlines: [airline] },
      "airports.1.country",
    ],
    [
      { airports: [airport, { ...other, timeZone: "Mars/Olympus" }], airlines: [airline] },
      "timeZone",
    ],
    [{ airports: [airport, other], airlines: [{ ...airline, iata: "A-" }] }, "airlines.0.iata"],
    [{ airports: [airport, other], airlines: [{ ...airline, alliance: "none" }] }, "alliance"],
    [{ airports: [airport, other], airlines: [{ ...airline, hubs: ["ZZZ"] }] }, "not in airports"],
    [{ airports: [airport, airport], airlines: [airline] }, "duplicate"],
  ];
  for (const [input, expected] of cases) {
    assertThrows(() => parseReferenceData(input), Error, expected);
  }
});
