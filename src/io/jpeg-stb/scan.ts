// One scan (SOS): its header, then its MCUs in stb_image's order, restart intervals and all. Baseline blocks go
// straight through the IDCT into the component planes; progressive ones accumulate coefficients for finishFrame.
import { BitReader } from './bit-reader.js';
import {
  decodeAcFirst,
  decodeAcRefine,
  decodeBaselineBlock,
  decodeDcFirst,
  decodeDcRefine,
  type EntropyState,
} from './blocks.js';
import { fail } from './fail.js';
import type { Component, Frame } from './frame.js';
import type { HuffmanTable } from './huffman.js';
import { idctBlock, idctDcOnly } from './idct.js';
import type { EntropySegments } from './segments.js';

/** Tables as defined so far by DQT, DHT and DRI segments (later ones replace earlier ones). */
export interface Tables {
  /** Natural order, as stb_image keeps them. */
  quant: (Uint16Array | null)[];
  dc: (HuffmanTable | null)[];
  ac: (HuffmanTable | null)[];
  restartInterval: number;
}

/** A scan's components in coding order, their Huffman tables, its spectral band and successive approximation bits. */
export interface ScanHeader {
  components: Component[];
  dc: HuffmanTable[];
  ac: HuffmanTable[];
  /** Zigzag band [start, end]; sequential scans always cover 0..63. */
  start: number;
  end: number;
  /** Ah and Al: the bit position refined before (0 in a first scan) and now. */
  high: number;
  low: number;
}

type Kind = 'baseline' | 'dc-first' | 'dc-refine' | 'ac-first' | 'ac-refine';

/** Parses the SOS body, checking what stb_image checks and that every table the scan will use is defined. */
export function parseScanHeader(seg: Uint8Array, frame: Frame, tables: Tables): ScanHeader {
  const n = seg[0];
  if (n < 1 || n > 4 || n > frame.components.length) fail('bad number of components in a scan');
  if (seg.length !== 4 + 2 * n) fail('bad SOS length');
  const components = [],
    dc = [],
    ac = [];
  for (let i = 0; i < n; i++) {
    const id = seg[1 + 2 * i],
      sel = seg[2 + 2 * i];
    const comp = frame.components.find((c) => c.id === id);
    if (!comp) fail(`scan names component ${id}, which the frame does not have`);
    if (sel >> 4 > 3 || (sel & 15) > 3) fail('bad Huffman table index');
    components.push(comp);
    dc.push(tables.dc[sel >> 4]);
    ac.push(tables.ac[sel & 15]);
  }
  const start = seg[1 + 2 * n];
  let end = seg[2 + 2 * n];
  const high = seg[3 + 2 * n] >> 4,
    low = seg[3 + 2 * n] & 15;
  if (frame.progressive) {
    if (start > 63 || end > 63 || start > end || high > 13 || low > 13) fail('bad progressive scan parameters');
    if (start === 0 && end !== 0) fail('a progressive scan mixes DC and AC coefficients');
    if (start > 0 && n !== 1) fail('a progressive AC scan has more than one component');
  } else {
    if (start !== 0 || high !== 0 || low !== 0) fail('bad scan parameters for a sequential JPEG');
    end = 63;
  }
  const kind = scanKind(frame.progressive, start, high);
  for (let i = 0; i < n; i++) {
    const needsDc = kind === 'baseline' || kind === 'dc-first',
      needsAc = kind === 'baseline' || kind.startsWith('ac');
    if ((needsDc && !dc[i]) || (needsAc && !ac[i])) fail('a scan uses an undefined Huffman table');
    if (!frame.progressive && !tables.quant[components[i].tq]) fail('a scan uses an undefined quantisation table');
  }
  return { components, dc: dc as HuffmanTable[], ac: ac as HuffmanTable[], start, end, high, low };
}

function scanKind(progressive: boolean, start: number, high: number): Kind {
  if (!progressive) return 'baseline';
  if (start === 0) return high === 0 ? 'dc-first' : 'dc-refine';
  return high === 0 ? 'ac-first' : 'ac-refine';
}

const block = new Int16Array(64);

/** Decodes the scan's MCUs from `segs` (one segment per restart interval). */
export function decodeScan(frame: Frame, scan: ScanHeader, tables: Tables, segs: EntropySegments): void {
  new ScanDecoder(frame, scan, tables, segs).run();
}

// A class rather than closures over mutable locals, which V8 keeps deoptimising here.
class ScanDecoder {
  private readonly kind: Kind;
  private readonly bits: BitReader;
  private readonly state: EntropyState = { dcPred: new Int32Array(4), eobRun: 0 };
  private readonly quant: Uint16Array[];
  /** DC predictions belong to the frame's components (stb_image indexes them so), not to places in the scan. */
  private readonly pred: number[];
  private readonly interval: number;
  private segment = 0;
  private todo: number;

  constructor(
    private readonly frame: Frame,
    private readonly scan: ScanHeader,
    tables: Tables,
    private readonly segs: EntropySegments,
  ) {
    this.kind = scanKind(frame.progressive, scan.start, scan.high);
    this.bits = new BitReader(segs.data);
    this.quant = scan.components.map((c) => tables.quant[c.tq] as Uint16Array);
    this.pred = scan.components.map((c) => frame.components.indexOf(c));
    this.interval = this.todo = tables.restartInterval || Infinity;
    this.bits.reset(segs.bounds[0], segs.bounds[1]);
  }

  run(): void {
    const { frame, scan } = this;
    if (scan.components.length === 1) {
      // Non-interleaved: every block of the component's real extent is an MCU, in raster order.
      const comp = scan.components[0];
      const cols = Math.ceil(comp.width / 8),
        rows = Math.ceil(comp.height / 8);
      for (let by = 0; by < rows; by++) {
        for (let bx = 0; bx < cols; bx++) {
          this.decodeBlock(0, bx, by);
          this.endMcu(by < rows - 1 || bx < cols - 1);
        }
        this.checkOverrun();
      }
    } else {
      for (let my = 0; my < frame.mcusPerColumn; my++) {
        for (let mx = 0; mx < frame.mcusPerLine; mx++) {
          for (let ci = 0; ci < scan.components.length; ci++) {
            const { h, v } = scan.components[ci];
            for (let y = 0; y < v; y++) for (let x = 0; x < h; x++) this.decodeBlock(ci, mx * h + x, my * v + y);
          }
          this.endMcu(my < frame.mcusPerColumn - 1 || mx < frame.mcusPerLine - 1);
        }
        this.checkOverrun();
      }
    }
    const decodes = this.kind === 'baseline' || this.kind === 'dc-first';
    if (decodes) for (const comp of scan.components) comp.decoded = true;
  }

  private decodeBlock(ci: number, bx: number, by: number): void {
    const { scan, bits, state } = this;
    const comp = scan.components[ci];
    if (this.kind === 'baseline') {
      const stride = comp.blocksPerLine * 8,
        at = by * 8 * stride + bx * 8;
      if (decodeBaselineBlock(bits, block, scan.dc[ci], scan.ac[ci], this.quant[ci], state, this.pred[ci])) {
        idctBlock(block, comp.pixels, at, stride);
      } else idctDcOnly(block[0], comp.pixels, at, stride);
      return;
    }
    const coefs = comp.coefs as Int16Array,
      at = (by * comp.blocksPerLine + bx) * 64;
    const { start, end, low } = scan;
    if (this.kind === 'dc-first') decodeDcFirst(bits, coefs, at, scan.dc[ci], state, this.pred[ci], low);
    else if (this.kind === 'dc-refine') decodeDcRefine(bits, coefs, at, low);
    else if (this.kind === 'ac-first') decodeAcFirst(bits, coefs, at, scan.ac[ci], state, start, end, low);
    else decodeAcRefine(bits, coefs, at, scan.ac[ci], state, start, end, low);
  }

  /** After each row of MCUs too, so that a truncated file fails without decoding the rest of it from nothing. */
  private checkOverrun(): void {
    if (this.bits.overrun()) fail('premature end of entropy-coded data');
  }

  /** After each MCU: at the end of a restart interval, check the interval's data and move to the next one. */
  private endMcu(more: boolean): void {
    if (--this.todo > 0 || !more) return;
    const { bits, segs } = this;
    this.checkOverrun();
    // stb_image only finds the restart marker within about 3 bytes of the interval's last code; past that it
    // stops decoding and leaves the rest of the image undefined, so such junk is refused.
    if (bits.leftover() >= 24) fail('junk before a restart marker');
    const next = ++this.segment;
    if (2 * next + 1 >= segs.bounds.length) fail('missing restart marker (truncated or damaged data)');
    bits.reset(segs.bounds[2 * next], segs.bounds[2 * next + 1]);
    this.state.dcPred.fill(0);
    this.state.eobRun = 0;
    this.todo = this.interval;
  }
}

/** Progressive frames: dequantise (as shorts, like stb_image) and IDCT every block, with the final tables. */
export function finishFrame(frame: Frame, tables: Tables): void {
  for (const comp of frame.components) {
    const coefs = comp.coefs as Int16Array,
      quant = tables.quant[comp.tq];
    if (!quant) fail('a component uses an undefined quantisation table');
    const stride = comp.blocksPerLine * 8;
    const cols = Math.ceil(comp.width / 8),
      rows = Math.ceil(comp.height / 8);
    for (let by = 0; by < rows; by++) {
      for (let bx = 0; bx < cols; bx++) {
        const at = (by * comp.blocksPerLine + bx) * 64,
          out = by * 8 * stride + bx * 8;
        block[0] = coefs[at] * quant[0];
        let ac = 0;
        for (let i = 1; i < 64; i++) ac |= block[i] = coefs[at + i] * quant[i];
        if (ac !== 0) idctBlock(block, comp.pixels, out, stride);
        else idctDcOnly(block[0], comp.pixels, out, stride);
      }
    }
  }
}
