import { assertEquals, assertThrows } from "../../../../tests/support/assert.ts";
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeAad,
  EnvelopeFormatError,
  envelopeHeader,
  envelopeVersion,
} from "./envelope_format.ts";

const parts = {
  encryptedKey: Uint8Array.from({ length: 300 }, (_, i) => i % 256),
  iv: new Uint8Array(12).fill(7),
  sealed: new Uint8Array(40).fill(9),
};

Deno.test("encodeEnvelope() lays out version, suite, key length, key, IV and sealed bytes", () => {
  const bytes = encodeEnvelope(parts);
  assertEquals(envelopeVersion, 2);
  assertEquals([...bytes.subarray(0, 4)], [2, 1, 0x01, 0x2c]); // 300 = 0x012c, big-endian
  assertEquals(bytes.length, 4 + 300 + 12 + 40);
  const decoded = decodeEnvelope(bytes);
  assertEquals([decoded.version, decoded.suite], [2, 1]);
  assertEquals(decoded.encryptedKey, parts.encryptedKey);
  assertEquals(decoded.iv, parts.iv);
  assertEquals(decoded.sealed, parts.sealed);
  assertEquals(decoded.header, envelopeHeader(parts.encryptedKey));
});

Deno.test("encodeEnvelope() and decodeEnvelope() keep version 1 readable with the same layout", () => {
  const v1 = encodeEnvelope({ ...parts, version: 1 });
  assertEquals([...v1.subarray(0, 4)], [1, 1, 0x01, 0x2c]);
  const decoded = decodeEnvelope(v1);
  assertEquals(decoded.version, 1);
  assertEquals(decoded.header, envelopeHeader(parts.encryptedKey, 1));
  assertEquals(decoded.sealed, parts.sealed);
});

Deno.test("decodeEnvelope() refuses unknown versions and suites and truncated bytes", () => {
  const bytes = encodeEnvelope(parts);
  for (const version of [0, 3, 255]) {
    const other = bytes.slice();
    other[0] = version;
    assertThrows(() => decodeEnvelope(other), EnvelopeFormatError, `version ${version}`);
  }
  const suite = bytes.slice();
  suite[1] = 9;
  assertThrows(() => decodeEnvelope(suite), EnvelopeFormatError, "suite 9");
  assertThrows(() => decodeEnvelope(bytes.subarray(0, 300)), EnvelopeFormatError, "truncated");
  assertThrows(() => decodeEnvelope(new Uint8Array(2)), EnvelopeFormatError, "truncated");
  assertThrows(
    () => encodeEnvelope({ ...parts, iv: new Uint8Array(8) }),
    EnvelopeFormatError,
    "IV",
  );
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => envelopeHeader(parts.encryptedKey, 3 as any),
    EnvelopeFormatError,
    "version 3",
  );
});

Deno.test("envelopeAad() is the header then the canonical context (v1) or [context,binding] (v2)", () => {
  const header = Uint8Array.of(9, 9);
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(2));
  const context = { purpose: "card", environment: "prod" };
  const binding = { user_id: "u1", payment_method_id: "p1" };
  const v2 = envelopeAad(header, 2, context, binding);
  assertEquals([...v2.subarray(0, 2)], [9, 9]);
  assertEquals(
    text(v2),
    '[{"environment":"prod","purpose":"card"},{"payment_method_id":"p1","user_id":"u1"}]',
  );
  assertEquals(
    text(envelopeAad(header, 1, { ...context, ...binding })),
    JSON.stringify({
      environment: "prod",
      payment_method_id: "p1",
      purpose: "card",
      user_id: "u1",
    }),
  );
  // A pair moved from the binding into the context changes the bytes.
  const moved = envelopeAad(header, 2, { ...context, user_id: "u1" }, { payment_method_id: "p1" });
  assertEquals(text(moved) === text(v2), false);
});

Deno.test("envelopeAad() refuses a v2 AAD without binding, with an invalid one, or with shared keys", () => {
  const header = Uint8Array.of(2);
  const context = { purpose: "card" };
  assertThrows(() => envelopeAad(header, 2, context), TypeError, "binding");
  assertThrows(() => envelopeAad(header, 2, context, {}), TypeError, "1..10 pairs");
  const error = assertThrows(
    () => envelopeAad(header, 2, context, { purpose: "secret-value" }),
    TypeError,
    "purpose",
  );
  assertEquals(error.message.includes("secret-value"), false);
});
