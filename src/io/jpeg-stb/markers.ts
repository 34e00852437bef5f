// The marker segments other than SOF and SOS: tables (DQT, DHT), the restart interval (DRI), and the two APP
// segments stb_image reads (JFIF, Adobe) among those it skips (APPn, COM). Lengths are checked as stb_image does.
import { fail } from './fail.js';
import { buildHuffman } from './huffman.js';
import { ZIGZAG } from './blocks.js';
import type { Tables } from './scan.js';

export interface AppInfo {
  jfif: boolean;
  /** The Adobe segment's colour transform (0: none/CMYK, 1: YCbCr, 2: YCCK), −1 without one. */
  adobeTransform: number;
}

export function readDqt(seg: Uint8Array, tables: Tables): void {
  let p = 0;
  while (p < seg.length) {
    const pq = seg[p] >> 4,
      tq = seg[p] & 15;
    if (pq > 1) fail('bad quantisation table precision');
    if (tq > 3) fail('bad quantisation table index');
    const size = pq ? 128 : 64;
    if (p + 1 + size > seg.length) fail('bad DQT length');
    const q = new Uint16Array(64);
    for (let i = 0; i < 64; i++) q[ZIGZAG[i]] = pq ? (seg[p + 1 + 2 * i] << 8) | seg[p + 2 + 2 * i] : seg[p + 1 + i];
    tables.quant[tq] = q;
    p += 1 + size;
  }
}

export function readDht(seg: Uint8Array, tables: Tables): void {
  let p = 0;
  while (p < seg.length) {
    if (p + 17 > seg.length) fail('bad DHT length');
    const tc = seg[p] >> 4,
      th = seg[p] & 15;
    if (tc > 1 || th > 3) fail('bad Huffman table class or index');
    const counts = seg.subarray(p + 1, p + 17);
    const n = counts.reduce((a, b) => a + b, 0);
    if (n > 256) fail('bad DHT (more than 256 codes)');
    if (p + 17 + n > seg.length) fail('bad DHT length');
    const table = buildHuffman(counts, seg.slice(p + 17, p + 17 + n));
    (tc === 0 ? tables.dc : tables.ac)[th] = table;
    p += 17 + n;
  }
}

export function readDri(seg: Uint8Array, tables: Tables): void {
  if (seg.length !== 2) fail('bad DRI length');
  tables.restartInterval = (seg[0] << 8) | seg[1];
}

const JFIF = [0x4a, 0x46, 0x49, 0x46, 0];
const ADOBE = [0x41, 0x64, 0x6f, 0x62, 0x65, 0];

/** APP0 and APP14 as stb_image reads them (the tag must match exactly; the segments must be long enough). */
export function readApp(marker: number, seg: Uint8Array, info: AppInfo): void {
  const tagged = (tag: number[]) => tag.every((b, i) => seg[i] === b);
  if (marker === 0xe0 && seg.length >= 5 && tagged(JFIF)) info.jfif = true;
  else if (marker === 0xee && seg.length >= 12 && tagged(ADOBE)) info.adobeTransform = seg[11];
}
