// Bits of one restart interval's entropy-coded data, already freed of 0xFF00 stuffing (see segments.ts). The state
// is a single bit position: each read assembles the next 32 bits from four bytes, which V8 does faster than it
// keeps a refilled bit buffer in an object's fields.
import { fail } from './fail.js';
import { LOOKUP_BITS, type HuffmanTable } from './huffman.js';

/** Bytes the data buffer must have beyond its last segment, so that reads near the end stay in bounds. */
export const READ_PADDING = 4;

export class BitReader {
  private at = 0;
  private end = 0;

  constructor(private readonly data: Uint8Array) {}

  /** Starts reading data[start, end), as after each restart marker. */
  reset(start: number, end: number): void {
    this.at = start * 8;
    this.end = end * 8;
  }

  /**
   * Whether decoding used bits beyond the end of the data: a truncated or damaged stream. Reads past the end see
   * whatever follows (the next segment, or padding) without checks per read; only this tells them apart.
   */
  overrun(): boolean {
    return this.at > this.end;
  }

  /** Data bits not used: padding (under 8 for a well-formed stream) plus any junk. */
  leftover(): number {
    return this.end - this.at;
  }

  /** The next 25 bits at least, left-aligned in a 32-bit integer. */
  private peek(): number {
    const d = this.data,
      p = this.at >>> 3;
    return ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) << (this.at & 7);
  }

  decode(table: HuffmanTable): number {
    const w = this.peek();
    const entry = table.lookup[w >>> (32 - LOOKUP_BITS)];
    if (entry !== 0) {
      this.at += entry >> 8;
      return entry & 0xff;
    }
    for (let len = LOOKUP_BITS + 1; len <= 16; len++) {
      const code = w >>> (32 - len);
      if (code <= table.maxCode[len]) {
        this.at += len;
        return table.symbols[code + table.offset[len]];
      }
    }
    return fail('bad Huffman code');
  }

  /** A `fastAc` entry of the table for the next bits, consumed if it is not 0 (see HuffmanTable). */
  fastAc(table: HuffmanTable): number {
    const entry = table.fastAc[this.peek() >>> (32 - LOOKUP_BITS)];
    this.at += entry & 0xff;
    return entry;
  }

  /** `n` (1..16) raw bits as an unsigned number. */
  bits(n: number): number {
    const v = this.peek() >>> (32 - n);
    this.at += n;
    return v;
  }

  bit(): number {
    const v = this.peek() >>> 31;
    this.at++;
    return v;
  }

  /** An `n`-bit magnitude category value, sign-extended as JPEG codes it (F.12: EXTEND). */
  receiveExtend(n: number): number {
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }
}
