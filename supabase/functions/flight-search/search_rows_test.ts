import { assertEquals } from "../../../tests/support/assert.ts";
import { type FlightRow, legId, referencedCodes, type RefRow, rowSource } from "./search_rows.ts";

function flight(id: string, origin: string, destination: string, date: string): FlightRow {
  return {
    id,
    airline_code: id.startsWith("1") ? "AA" : "UA",
    flight_number: Number(id),
    origin,
    destination,
    departure_date: date,
    departure_at: new Date(`${date}T08:00:00Z`),
    arrival_at: new Date(`${date}T11:00:00Z`),
    aircraft: null,
    status: "scheduled",
  };
}

const ref = (kind: RefRow["kind"], code: string): RefRow => ({
  kind,
  code,
  name: code,
  city: null,
  country_code: "US",
  time_zone: null,
  alliance: null,
});

Deno.test("rowSource() looks flights up by leg, fares by flight and references by kind", () => {
  const out = flight("101", "JFK", "LAX", "2026-12-01");
  const back = flight("202", "LAX", "JFK", "2026-12-08");
  const fare = {
    flight_id: "101",
    cabin: "economy",
    fare_class: "Y",
    price_minor: 19_900,
    currency: "USD",
    seats_left: 4,
    refundable: false,
  };
  const rows = rowSource({
    flights: [out, back],
    fares: [fare],
    refs: [ref("airport", "JFK"), ref("airline", "AA")],
  });
  assertEquals(rows.flightsOf({ origin: "JFK", destination: "LAX", date: "2026-12-01" }), [out]);
  assertEquals(rows.flightsOf({ origin: "JFK", destination: "LAX", date: "2026-12-02" }), []);
  assertEquals([rows.faresOf("101"), rows.faresOf("202")], [[fare], []]);
  assertEquals(rows.airport("JFK")?.kind, "airport");
  assertEquals([rows.airport("AA"), rows.airline("JFK")], [undefined, undefined]);
  assertEquals(rows.airline("AA")?.code, "AA");
});

Deno.test("legId() and referencedCodes() name legs and the codes flights refer to", () => {
  assertEquals(
    legId({ origin: "JFK", destination: "LAX", date: "2026-12-01" }),
    "JFK:LAX:2026-12-01",
  );
  const codes = referencedCodes([
    flight("202", "LAX", "JFK", "2026-12-08"),
    flight("101", "JFK", "ORD", "2026-12-01"),
  ]);
  assertEquals(codes, { airports: ["JFK", "LAX", "ORD"], airlines: ["AA", "UA"] });
});
