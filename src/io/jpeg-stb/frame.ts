// The frame header (SOF0/1/2) and the per-component sample planes it implies, checked as stb_image checks them,
// plus limits of our own so that a damaged header cannot make us allocate gigabytes.
import { fail } from './fail.js';
import { workBuffer } from './pool.js';

/** One component's header fields and its sample plane (a class, so that every one has the same shape for V8). */
export class Component {
  /** Samples that carry image content: ceil(image size · factor / max factor). */
  readonly width: number;
  readonly height: number;
  /** Planes cover whole MCUs: blocksPerLine · 8 samples per line. */
  readonly blocksPerLine: number;
  readonly blocksPerColumn: number;
  readonly pixels: Uint8Array;
  /** Progressive frames keep every block's coefficients until the end, as stb_image does. */
  readonly coefs: Int16Array | null;
  /** Whether a scan (progressive: a first DC scan) has covered this component. */
  decoded = false;

  constructor(
    readonly id: number,
    readonly h: number,
    readonly v: number,
    readonly tq: number,
    image: Frame,
    index: number,
  ) {
    this.width = Math.ceil((image.width * h) / image.hMax);
    this.height = Math.ceil((image.height * v) / image.vMax);
    this.blocksPerLine = image.mcusPerLine * h;
    this.blocksPerColumn = image.mcusPerColumn * v;
    const size = this.blocksPerLine * this.blocksPerColumn * 64;
    this.pixels = new Uint8Array(workBuffer(`pixels ${index}`, size), 0, size);
    // Each block read is cleared by its first DC scan anyway (as in stb_image, whose buffer starts uninitialised);
    // clearing here only keeps leftovers of an earlier image out of damaged files' errors.
    this.coefs = null;
    if (image.progressive) this.coefs = new Int16Array(workBuffer(`coefs ${index}`, 2 * size), 0, size).fill(0);
  }
}

export interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  hMax: number;
  vMax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
  components: Component[];
  /** Component ids 'R', 'G', 'B': stb_image then takes the samples as RGB, whatever the markers say. */
  rgbIds: boolean;
}

/** stb_image's STBI_MAX_DIMENSIONS. */
const MAX_SIDE = 1 << 24;
/** Ours: 64 Mpixels, 256 MiB of RGBA; far beyond any video frame or photo a network is fed. */
const MAX_PIXELS = 1 << 26;

/**
 * Parses the SOF segment body `seg` and allocates the planes. `bytesLeft` is what the file holds
 * after the header: every block costs at least one bit of entropy-coded data, so a frame needing more blocks than
 * that is refused before anything is allocated.
 */
export function parseFrame(seg: Uint8Array, progressive: boolean, bytesLeft: number): Frame {
  if (seg.length < 9) fail('bad SOF length');
  if (seg[0] !== 8) fail(`${seg[0]}-bit samples (only 8-bit JPEG is supported, as in stb_image)`);
  const height = (seg[1] << 8) | seg[2];
  const width = (seg[3] << 8) | seg[4];
  const n = seg[5];
  if (height === 0) fail('zero height (DNL-defined height is not supported, as in stb_image)');
  if (width === 0) fail('zero width');
  if (n !== 1 && n !== 3 && n !== 4) fail(`${n} components (1, 3 or 4 are supported)`);
  if (seg.length !== 6 + 3 * n) fail('bad SOF length');
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    fail(`${width}×${height} pixels is too large (at most ${MAX_PIXELS} pixels)`);
  }
  const specs = [];
  let rgb = 0;
  for (let i = 0; i < n; i++) {
    const id = seg[6 + 3 * i],
      hv = seg[7 + 3 * i],
      tq = seg[8 + 3 * i];
    const h = hv >> 4,
      v = hv & 15;
    if (h < 1 || h > 4) fail('bad horizontal sampling factor');
    if (v < 1 || v > 4) fail('bad vertical sampling factor');
    if (tq > 3) fail('bad quantisation table index');
    if (n === 3 && id === 'RGB'.charCodeAt(i)) rgb++;
    specs.push({ id, h, v, tq });
  }
  const hMax = Math.max(...specs.map((s) => s.h)),
    vMax = Math.max(...specs.map((s) => s.v));
  if (specs.some((s) => hMax % s.h !== 0 || vMax % s.v !== 0)) fail('sampling factors are not integer ratios');
  const mcusPerLine = Math.ceil(width / (8 * hMax)),
    mcusPerColumn = Math.ceil(height / (8 * vMax));
  const blocks = (size: number, f: number, fMax: number) => Math.ceil(Math.ceil((size * f) / fMax) / 8);
  const minBlocks = specs.reduce((sum, c) => sum + blocks(width, c.h, hMax) * blocks(height, c.v, vMax), 0);
  if (minBlocks > bytesLeft * 8) {
    fail(`declares ${width}×${height} pixels but holds only ${bytesLeft} bytes of image data (truncated?)`);
  }
  const frame: Frame = {
    width,
    height,
    progressive,
    hMax,
    vMax,
    mcusPerLine,
    mcusPerColumn,
    components: [],
    rgbIds: rgb === 3,
  };
  frame.components = specs.map((c, i) => new Component(c.id, c.h, c.v, c.tq, frame, i));
  return frame;
}
