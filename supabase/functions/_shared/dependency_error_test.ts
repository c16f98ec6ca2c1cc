import { assertEquals } from "../../../tests/support/assert.ts";
import { BatchTimeoutError } from "./coalescer.ts";
import { CircuitOpenError } from "./circuit_breaker.ts";
import { DeadlineExceeded } from "./deadline.ts";
import { asUnavailable, DependencyUnavailable, unavailableDependency } from "./dependency_error.ts";
import { errorResponse } from "./http_error.ts";
import { KmsUnavailableError } from "./kms/kms_error.ts";

const pgError = (code: string) => Object.assign(new Error("x"), { name: "PostgresError", code });
const netError = (code: string) => Object.assign(new Error("x"), { code });

Deno.test("unavailableDependency() sorts errors by type and code, never by message", () => {
  assertEquals(unavailableDependency(new CircuitOpenError("database", 10)), "database");
  assertEquals(unavailableDependency(new KmsUnavailableError("x")), "kms");
  assertEquals(unavailableDependency(new DeadlineExceeded("q", 1, "database")), "database");
  assertEquals(unavailableDependency(new DeadlineExceeded("q", 1)), "unknown");
  assertEquals(unavailableDependency(new BatchTimeoutError(10, 2)), "database");
  assertEquals(unavailableDependency(pgError("57P01")), "database");
  assertEquals(unavailableDependency(pgError("57014")), "database");
  assertEquals(unavailableDependency(pgError("08006")), "database");
  assertEquals(unavailableDependency(pgError("42P01")), undefined);
  assertEquals(unavailableDependency(netError("CONNECTION_CLOSED")), "database");
  assertEquals(unavailableDependency(netError("ECONNREFUSED")), "unknown");
  assertEquals(unavailableDependency(new Error("ECONNREFUSED timeout")), undefined);
  assertEquals(unavailableDependency(new TypeError("bug")), undefined);
});

Deno.test("asUnavailable() names the dependency a step was waiting for", () => {
  const error = asUnavailable("database", netError("ECONNRESET"));
  assertEquals(error instanceof DependencyUnavailable, true);
  assertEquals((error as DependencyUnavailable).dependency, "database");
  const bug = new TypeError("bug");
  assertEquals(asUnavailable("database", bug), bug);
});

Deno.test("errorResponse() answers a dependency failure 503 with Retry-After and its code", async () => {
  const logged: unknown[] = [];
  const cases: [unknown, string, string][] = [
    [new CircuitOpenError("database", 4200), "database_unavailable", "5"],
    [new KmsUnavailableError("x"), "kms_unavailable", "1"],
    [netError("ECONNREFUSED"), "dependency_unavailable", "1"],
    [new DependencyUnavailable("cache", "down", { retryAfterS: 2 }), "cache_unavailable", "2"],
  ];
  for (const [error, code, retryAfter] of cases) {
    const res = errorResponse(error, (_m, e) => logged.push(e));
    assertEquals(res.status, 503);
    assertEquals(res.headers.get("retry-after"), retryAfter);
    assertEquals((await res.json()).error.code, code);
  }
  assertEquals(logged.length, cases.length - 1, "an open breaker's refusals are not logged");
});
