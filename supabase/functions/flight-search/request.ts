/**
 * The search request: one zod schema for the query string of a GET and the JSON body of a POST.
 *
 * @module
 */
import { z } from "zod";
import { HttpError, parseInput, readJson } from "../_shared/http_error.ts";

/** Cabins a fare can be sold in (the CHECK of `public.fares.cabin`). */
export const cabins = ["economy", "premium_economy", "business", "first"] as const;
/** Result orders: cheapest fare, earliest departure, shortest flight. */
export const sortOrders = ["price", "departure", "duration"] as const;
/** Most travellers in one search, as airline booking engines allow. */
export const maxPassengers = 9;
/** Most flights per leg in one answer. */
export const maxLimit = 50;
/** Flights per leg when `limit` is not given. */
export const defaultLimit = 20;

// The search window a `date` column can hold without surprises; anything else is a typo.
const minYear = 2000;
const maxYear = 2100;

const airportCode = z.string().regex(/^[A-Za-z]{3}$/, "expected a 3-letter IATA airport code")
  .transform((code) => code.toUpperCase());

const calendarDate = z.string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD")
  .refine((text) => {
    const [y, m, d] = text.split("-").map(Number) as [number, number, number];
    const date = new Date(Date.UTC(y, m - 1, d));
    return y >= minYear && y <= maxYear && date.getUTCFullYear() === y &&
      date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }, `expected a calendar date between ${minYear}-01-01 and ${maxYear}-12-31`);

/** The search schema; defaults filled, codes upper-cased, unknown fields refused. */
export const searchSchema = z.strictObject({
  origin: airportCode,
  destination: airportCode,
  departure_date: calendarDate,
  return_date: calendarDate.optional(),
  passengers: z.number().int().min(1).max(maxPassengers).default(1),
  cabin: z.enum(cabins).default("economy"),
  sort: z.enum(sortOrders).default("price"),
  limit: z.number().int().min(1).max(maxLimit).default(defaultLimit),
}).superRefine((search, ctx) => {
  if (search.origin === search.destination) {
    ctx.addIssue({
      code: "custom",
      path: ["destination"],
      message: "must differ from origin",
    });
  }
  if (search.return_date !== undefined && search.return_date < search.departure_date) {
    ctx.addIssue({
      code: "custom",
      path: ["return_date"],
      message: "must not be before departure_date",
    });
  }
});

/** A validated search. */
export type SearchRequest = z.output<typeof searchSchema>;

/** Fields a query string carries as numbers. */
const numericFields = new Set(["passengers", "limit"]);

/**
 * A query string as the object the schema expects: numbers where numbers belong (left as text
 * when they do not parse, so the schema names the field), each parameter at most once.
 *
 * @throws {HttpError} 400 when a parameter repeats.
 */
export function queryToObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) {
      throw new HttpError(400, "invalid_request", `${name}: given more than once`, {
        field: name,
      });
    }
    out[name] = numericFields.has(name) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** Validates `input` as a search. @throws {HttpError} 400 naming the first bad field. */
export function validateSearch(input: unknown): SearchRequest {
  return parseInput(searchSchema, input, "parameter");
}

/**
 * The search a request asks for: the query string of a GET, the JSON body of a POST.
 *
 * @throws {HttpError} 400/413/415 for a malformed request.
 */
export async function parseSearch(req: Request): Promise<SearchRequest> {
  if (req.method === "POST") {
    const body = await readJson(req, 4096);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(400, "invalid_request", "body must be a JSON object");
    }
    return validateSearch(body);
  }
  return validateSearch(queryToObject(new URL(req.url).searchParams));
}

/**
 * A stable identity of a search: equal for searches that must get the same answer. Used to
 * deduplicate concurrent searches and as the result cache's key.
 */
export function searchKey(search: SearchRequest): string {
  return [
    search.origin,
    search.destination,
    search.departure_date,
    search.return_date ?? "-",
    search.passengers,
    search.cabin,
    search.sort,
    search.limit,
  ].join(":");
}
