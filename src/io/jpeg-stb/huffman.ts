// Canonical Huffman tables from a DHT segment (JPEG spec Annex C), with a 10-bit lookup for the common short codes.
import { fail } from './fail.js';

/** Codes up to this many bits are found by one table lookup; longer ones by comparing against each length's range. */
export const LOOKUP_BITS = 10;

export interface HuffmanTable {
  /** Indexed by the next LOOKUP_BITS bits: (code length << 8) | symbol, or 0 when the code is longer. */
  lookup: Uint16Array;
  /** For each length 1..16, the largest code of that length (−1 when none). */
  maxCode: Int32Array;
  /** For each length, what to add to a code of that length to get its index into `symbols`. */
  offset: Int32Array;
  symbols: Uint8Array;
  /**
   * For AC tables, indexed like `lookup`: when a code and the value bits after it both fit in the LOOKUP_BITS,
   * (value << 16) | (zero run << 8) | bits used, else 0. Most coefficients then take one lookup.
   */
  fastAc: Int32Array;
}

/** `counts[i]` codes of length i + 1, assigned in order to `symbols`; overfull length lists are rejected. */
export function buildHuffman(counts: ArrayLike<number>, symbols: Uint8Array): HuffmanTable {
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  const maxCode = new Int32Array(17).fill(-1);
  const offset = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    offset[len] = k - code;
    if (n > 0) {
      if (code + n > 1 << len) fail('bad Huffman table (code lengths overflow)');
      for (let i = 0; i < n; i++, code++, k++) {
        if (len <= LOOKUP_BITS) {
          const first = code << (LOOKUP_BITS - len);
          lookup.fill((len << 8) | symbols[k], first, first + (1 << (LOOKUP_BITS - len)));
        }
      }
      maxCode[len] = code - 1;
    }
    code <<= 1;
  }
  return { lookup, maxCode, offset, symbols, fastAc: fastAcTable(lookup) };
}

function fastAcTable(lookup: Uint16Array): Int32Array {
  const fast = new Int32Array(lookup.length);
  for (let i = 0; i < lookup.length; i++) {
    const entry = lookup[i],
      len = entry >> 8,
      s = entry & 15;
    if (entry === 0 || s === 0 || len + s > LOOKUP_BITS) continue;
    const bits = (i >> (LOOKUP_BITS - len - s)) & ((1 << s) - 1);
    const value = bits < 1 << (s - 1) ? bits - (1 << s) + 1 : bits;
    fast[i] = (value << 16) | ((entry & 0xf0) << 4) | (len + s);
  }
  return fast;
}
