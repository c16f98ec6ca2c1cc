import { assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { HttpError } from "../_shared/http_error.ts";
import { parseSearch, searchKey, validateSearch } from "./request.ts";

const get = (query: string) => new Request(`http://x/flight-search?${query}`);
const post = (body: unknown, type = "application/json") =>
  new Request("http://x/flight-search", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": type },
  });

Deno.test("parseSearch() reads GET and POST into the same normalized search", async () => {
  const fromGet = await parseSearch(
    get("origin=jfk&destination=LAX&departure_date=2026-12-01&passengers=2&limit=5"),
  );
  const fromPost = await parseSearch(
    post({
      origin: "JFK",
      destination: "lax",
      departure_date: "2026-12-01",
      passengers: 2,
      limit: 5,
    }),
  );
  const expected = {
    origin: "JFK",
    destination: "LAX",
    departure_date: "2026-12-01",
    passengers: 2,
    cabin: "economy",
    sort: "price",
    limit: 5,
  };
  assertEquals(fromGet, expected);
  assertEquals(fromPost, expected);
  assertEquals(searchKey(fromGet), searchKey(fromPost));
});

Deno.test("parseSearch() keeps an optional return date and explicit cabin and sort", async () => {
  const search = await parseSearch(
    get(
      "origin=CDG&destination=FRA&departure_date=2026-12-01&return_date=2026-12-01&cabin=business&sort=duration",
    ),
  );
  assertEquals([search.return_date, search.cabin, search.sort], [
    "2026-12-01",
    "business",
    "duration",
  ]);
});

Deno.test("searchKey() differs whenever the answer could differ", () => {
  const base = validateSearch({ origin: "JFK", destination: "LAX", departure_date: "2026-12-01" });
  const variants = [
    { ...base, return_date: "2026-12-05" },
    { ...base, passengers: 2 },
    { ...base, cabin: "first" as const },
    { ...base, sort: "departure" as const },
    { ...base, limit: 3 },
    { ...base, departure_date: "2026-12-02" },
    { ...base, origin: "LAX", destination: "JFK" },
  ];
  const keys = new Set([base, ...variants].map(searchKey));
  assertEquals(keys.size, variants.length + 1);
});

async function failure(req: Request): Promise<HttpError> {
  return await assertRejects(() => parseSearch(req), HttpError);
}

Deno.test("parseSearch() answers 400 naming the field for each kind of mistake", async () => {
  const base = "origin=JFK&destination=LAX&departure_date=2026-12-01";
  const cases: Array<[query: string, field: string]> = [
    ["destination=LAX&departure_date=2026-12-01", "origin"],
    [`${base.replace("JFK", "JF")}`, "origin"],
    [`${base.replace("JFK", "J1K")}`, "origin"],
    [`${base.replace("LAX", "JFK")}`, "destination"],
    [`${base.replace("2026-12-01", "2026-02-30")}`, "departure_date"],
    [`${base.replace("2026-12-01", "01/12/2026")}`, "departure_date"],
    [`${base.replace("2026-12-01", "0000-01-01")}`, "departure_date"],
    [`${base}&return_date=2026-11-30`, "return_date"],
    [`${base}&passengers=0`, "passengers"],
    [`${base}&passengers=10`, "passengers"],
    [`${base}&passengers=1.5`, "passengers"],
    [`${base}&passengers=two`, "passengers"],
    [`${base}&limit=0`, "limit"],
    [`${base}&limit=51`, "limit"],
    [`${base}&cabin=coach`, "cabin"],
    [`${base}&sort=random`, "sort"],
    [`${base}&origin=JFK`, "origin"],
    [`${base}&utm_source=x`, "utm_source"],
    [`${base}&passenger=2`, "passenger"],
  ];
  for (const [query, field] of cases) {
    const error = await failure(get(query));
    assertEquals([error.status, error.field], [400, field], query);
  }
});

Deno.test("parseSearch() answers 4xx to malformed POST bodies", async () => {
  assertEquals((await failure(post("{", "application/json"))).status, 400);
  assertEquals((await failure(post("[]"))).status, 400);
  assertEquals((await failure(post("null"))).status, 400);
  assertEquals((await failure(post({ origin: "JFK" }, "text/plain"))).status, 415);
  assertEquals((await failure(post({ pad: "x".repeat(5000) }))).status, 413);
  const typed = await failure(
    post({ origin: "JFK", destination: "LAX", departure_date: "2026-12-01", passengers: "2" }),
  );
  assertEquals([typed.status, typed.field], [400, "passengers"]);
});
