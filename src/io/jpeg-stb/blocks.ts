// Entropy decoding of single 8×8 blocks (JPEG spec F.2.2, G.1.2), with stb_image's conventions: coefficients are
// kept as C shorts (Int16Array stores wrap the same way), baseline blocks are dequantised as they are decoded, and a
// DC coefficient whose product with its quantiser overflows a short is an error, as stb_image makes it.
import type { BitReader } from './bit-reader.js';
import { fail } from './fail.js';
import type { HuffmanTable } from './huffman.js';

/** Natural-order position of each zigzag index. */
export const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
]);

/** What the decoders of one scan share: DC predictions per component and the progressive end-of-band run. */
export interface EntropyState {
  dcPred: Int32Array;
  eobRun: number;
}

const fitsShort = (x: number) => x >= -32768 && x <= 32767;

function decodeDc(bits: BitReader, table: HuffmanTable, state: EntropyState, comp: number): number {
  const t = bits.decode(table);
  if (t > 15) fail('bad DC code');
  const dc = state.dcPred[comp] + (t === 0 ? 0 : bits.receiveExtend(t));
  state.dcPred[comp] = dc;
  return dc;
}

/**
 * A baseline block into `out` (zeroed first), dequantised with `quant` (natural order).
 * Returns whether any AC coefficient is nonzero, so that DC-only blocks can take the short IDCT.
 */
export function decodeBaselineBlock(
  bits: BitReader,
  out: Int16Array,
  dcTable: HuffmanTable,
  acTable: HuffmanTable,
  quant: Uint16Array,
  state: EntropyState,
  comp: number,
): boolean {
  out.fill(0);
  const dc = decodeDc(bits, dcTable, state, comp) * quant[0];
  if (!fitsShort(dc)) fail('DC coefficient out of range');
  out[0] = dc;
  let ac = false;
  for (let k = 1; k < 64; ) {
    const fast = bits.fastAc(acTable);
    if (fast !== 0) {
      k += (fast >> 8) & 15;
      if (k > 63) fail('AC coefficients run past the end of a block');
      const z = ZIGZAG[k++];
      out[z] = (fast >> 16) * quant[z];
      ac = true;
      continue;
    }
    const rs = bits.decode(acTable);
    const s = rs & 15;
    if (s === 0) {
      if (rs !== 0xf0) break;
      k += 16;
      continue;
    }
    k += rs >> 4;
    if (k > 63) fail('AC coefficients run past the end of a block');
    const z = ZIGZAG[k++];
    out[z] = bits.receiveExtend(s) * quant[z];
    ac = true;
  }
  return ac;
}

/** First DC scan of a progressive block at coef[at]: clears the block, as stb_image does. */
export function decodeDcFirst(
  bits: BitReader,
  coef: Int16Array,
  at: number,
  table: HuffmanTable,
  state: EntropyState,
  comp: number,
  shift: number,
): void {
  coef.fill(0, at, at + 64);
  const dc = decodeDc(bits, table, state, comp) * (1 << shift);
  if (!fitsShort(dc)) fail('DC coefficient out of range');
  coef[at] = dc;
}

export function decodeDcRefine(bits: BitReader, coef: Int16Array, at: number, shift: number): void {
  if (bits.bit()) coef[at] += 1 << shift;
}

/** First scan of the AC band [start, end] of a progressive block. */
export function decodeAcFirst(
  bits: BitReader,
  coef: Int16Array,
  at: number,
  table: HuffmanTable,
  state: EntropyState,
  start: number,
  end: number,
  shift: number,
): void {
  if (state.eobRun > 0) {
    state.eobRun--;
    return;
  }
  for (let k = start; k <= end; ) {
    const fast = bits.fastAc(table);
    if (fast !== 0) {
      k += (fast >> 8) & 15;
      if (k > end) fail('AC coefficients run past the end of their band');
      coef[at + ZIGZAG[k++]] = (fast >> 16) * (1 << shift);
      continue;
    }
    const rs = bits.decode(table);
    const s = rs & 15,
      r = rs >> 4;
    if (s === 0) {
      if (r < 15) {
        state.eobRun = (1 << r) - 1 + (r ? bits.bits(r) : 0);
        return;
      }
      k += 16;
      continue;
    }
    k += r;
    if (k > end) fail('AC coefficients run past the end of their band');
    coef[at + ZIGZAG[k++]] = bits.receiveExtend(s) * (1 << shift);
  }
}

/** Refinement scan of the AC band [start, end]: one more bit of each nonzero coefficient, and new ±1 ones. */
export function decodeAcRefine(
  bits: BitReader,
  coef: Int16Array,
  at: number,
  table: HuffmanTable,
  state: EntropyState,
  start: number,
  end: number,
  shift: number,
): void {
  const bit = 1 << shift;
  let k = start;
  if (state.eobRun === 0) {
    for (; k <= end; ) {
      const rs = bits.decode(table);
      const s = rs & 15;
      let r = rs >> 4;
      let value = 0;
      if (s === 0) {
        if (r < 15) {
          state.eobRun = (1 << r) + (r ? bits.bits(r) : 0);
          break;
        }
        // ZRL: sixteen zero-history coefficients to skip, of which the sixteenth "gets" the value 0.
      } else {
        if (s !== 1) fail('bad AC refinement code');
        value = bits.bit() ? bit : -bit;
      }
      while (k <= end) {
        const p = at + ZIGZAG[k++];
        if (coef[p] !== 0) refine(bits, coef, p, bit);
        else if (r === 0) {
          if (value !== 0) coef[p] = value;
          break;
        } else r--;
      }
    }
    if (state.eobRun === 0) return;
  }
  // Inside an end-of-band run: the rest of this block's band only refines coefficients already nonzero.
  state.eobRun--;
  for (; k <= end; k++) {
    const p = at + ZIGZAG[k];
    if (coef[p] !== 0) refine(bits, coef, p, bit);
  }
}

function refine(bits: BitReader, coef: Int16Array, p: number, bit: number): void {
  if (bits.bit() && (coef[p] & bit) === 0) coef[p] += coef[p] > 0 ? bit : -bit;
}
