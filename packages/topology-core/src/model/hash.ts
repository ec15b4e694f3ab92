/**
 * Deterministic 32-bit hashing for rendezvous (highest-random-weight) assignment. Not
 * cryptographic; chosen for speed and good avalanche so that weights look independent.
 */

/** FNV-1a over the UTF-16 code units of `text`, finished with murmur3's fmix32. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** The rendezvous weight of the pair (a, b), from their {@link hashString} values. */
export function pairWeight(a: number, b: number): number {
  return fmix32((a ^ Math.imul(b, 0x9e3779b1)) + Math.imul(b ^ (b >>> 15), 0x85ebca6b));
}

function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
