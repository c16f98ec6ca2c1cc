import { assertEquals } from "../../../tests/support/assert.ts";
import { murmur3x86_32 } from "./_murmur3.ts";

// Published vectors for MurmurHash3_x86_32 (reference implementation's outputs, as listed with
// the algorithm's description and reproduced by SMHasher-verified ports).
const vectors: Array<[input: string | Uint8Array, seed: number, expected: number]> = [
  ["", 0, 0],
  ["", 1, 0x514e28b7],
  ["", 0xffffffff, 0x81f16f39],
  [new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0, 0x76293b50],
  [new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0, 0xf55b516b],
  [new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0x5082edee, 0x2362f9de],
  [new Uint8Array([0x21, 0x43, 0x65]), 0, 0x7e4a8634],
  [new Uint8Array([0x21, 0x43]), 0, 0xa0f7b07a],
  [new Uint8Array([0x21]), 0, 0x72661cf4],
  [new Uint8Array([0, 0, 0, 0]), 0, 0x2362f9de],
  [new Uint8Array([0, 0, 0]), 0, 0x85f0b427],
  [new Uint8Array([0, 0]), 0, 0x30f4c306],
  [new Uint8Array([0]), 0, 0x514e28b7],
  ["aaaa", 0x9747b28c, 0x5a97808a],
  ["aaa", 0x9747b28c, 0x283e0130],
  ["aa", 0x9747b28c, 0x5d211726],
  ["a", 0x9747b28c, 0x7fa09ea6],
  ["abcd", 0x9747b28c, 0xf0478627],
  ["abc", 0x9747b28c, 0xc84a62dd],
  ["ab", 0x9747b28c, 0x74875592],
  ["Hello, world!", 0x9747b28c, 0x24884cba],
  ["ππππππππ", 0x9747b28c, 0xd58063c1],
  ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
  ["The quick brown fox jumps over the lazy dog", 0, 0x2e4ff723],
];

Deno.test("murmur3x86_32() reproduces the published test vectors", () => {
  for (const [input, seed, expected] of vectors) {
    const label = typeof input === "string" ? JSON.stringify(input) : `[${input.join(",")}]`;
    assertEquals(murmur3x86_32(input, seed), expected, `${label} seed ${seed.toString(16)}`);
  }
});

Deno.test("murmur3x86_32() hashes a string as its UTF-8 bytes", () => {
  const text = "ü:é";
  assertEquals(murmur3x86_32(text, 7), murmur3x86_32(new TextEncoder().encode(text), 7));
});
