// Chroma (or any plane's) upsampling to full resolution, one output row at a time, as stb_image does it: "fancy"
// triangle filters for the 2× cases (horizontal 3/4·near + 1/4·far with edge samples copied, vertical likewise,
// both together with a 1/16 rounding), plain replication for every other ratio. stb_image's SSE2 version of the
// 2×2 filter computes the same numbers as its C version.
import type { Component, Frame } from './frame.js';

/** Walks a plane down the output rows, picking the near and far source lines as stb_image's resampler does. */
export class PlaneUpsampler {
  private readonly hs: number;
  private readonly vs: number;
  private readonly lores: number;
  private readonly stride: number;
  /** Where each output row's samples are: the plane itself when at full resolution, else a line buffer. */
  readonly src: Uint8Array;
  private readonly src32: Uint32Array;
  private readonly pixels32: Uint32Array;
  private ystep: number;
  private ypos = 0;
  private line0 = 0;
  private line1 = 0;

  constructor(
    private readonly comp: Component,
    frame: Frame,
  ) {
    this.hs = frame.hMax / comp.h;
    this.vs = frame.vMax / comp.v;
    this.ystep = this.vs >> 1;
    this.lores = Math.ceil(frame.width / this.hs);
    this.stride = comp.blocksPerLine * 8;
    // Room for upsampling past the right edge (up to 3 samples at 4×), in whole 32-bit words for vertical2.
    this.src = this.hs === 1 && this.vs === 1 ? comp.pixels : new Uint8Array((frame.width + 7) & ~3);
    this.src32 = new Uint32Array(this.src.buffer, this.src.byteOffset, this.src.length >> 2);
    this.pixels32 = new Uint32Array(comp.pixels.buffer, comp.pixels.byteOffset, comp.pixels.length >> 2);
  }

  /** The next output row: where its samples start in `src` (valid until the next call). */
  next(): number {
    const { hs, vs, comp, src } = this;
    const bottom = this.ystep >= vs >> 1;
    const near = bottom ? this.line1 : this.line0,
      far = bottom ? this.line0 : this.line1;
    let at = 0;
    if (hs === 1 && vs === 1) at = near;
    else if (hs === 1 && vs === 2) vertical2(this.src32, this.pixels32, near, far, this.lores);
    else if (hs === 2 && vs === 1) horizontal2(src, comp.pixels, near, this.lores);
    else if (hs === 2 && vs === 2) both2(src, comp.pixels, near, far, this.lores);
    else replicate(src, comp.pixels, near, this.lores, hs);
    if (++this.ystep >= vs) {
      this.ystep = 0;
      this.line0 = this.line1;
      if (++this.ypos < comp.height) this.line1 += this.stride;
    }
    return at;
  }
}

const EVEN_BYTES = 0x00ff00ff;

/**
 * Four samples at a time, each pair of bytes in its own 16-bit lane so that 3·near + far + 2 cannot carry into the
 * next. Rows start at multiples of 8 (planes are whole blocks wide) and the line buffer is padded, so the 32-bit
 * views stay aligned; whatever lies past `w` in the last word is never used.
 */
function vertical2(out: Uint32Array, src: Uint32Array, near: number, far: number, w: number): void {
  near >>= 2;
  far >>= 2;
  for (let i = 0, n = (w + 3) >> 2; i < n; i++) {
    const a = src[near + i],
      b = src[far + i];
    const even = ((3 * (a & EVEN_BYTES) + (b & EVEN_BYTES) + 0x00020002) >>> 2) & EVEN_BYTES;
    const odd = ((3 * ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + 0x00020002) >>> 2) & EVEN_BYTES;
    out[i] = even | (odd << 8);
  }
}

function horizontal2(out: Uint8Array, src: Uint8Array, at: number, w: number): void {
  if (w === 1) {
    out[0] = out[1] = src[at];
    return;
  }
  out[0] = src[at];
  out[1] = (3 * src[at] + src[at + 1] + 2) >> 2;
  let i = 1;
  for (; i < w - 1; i++) {
    const n = 3 * src[at + i] + 2;
    out[2 * i] = (n + src[at + i - 1]) >> 2;
    out[2 * i + 1] = (n + src[at + i + 1]) >> 2;
  }
  out[2 * i] = (3 * src[at + w - 2] + src[at + w - 1] + 2) >> 2;
  out[2 * i + 1] = src[at + w - 1];
}

function both2(out: Uint8Array, src: Uint8Array, near: number, far: number, w: number): void {
  let t1 = 3 * src[near] + src[far];
  if (w === 1) {
    out[0] = out[1] = (t1 + 2) >> 2;
    return;
  }
  out[0] = (t1 + 2) >> 2;
  for (let i = 1; i < w; i++) {
    const t0 = t1;
    t1 = 3 * src[near + i] + src[far + i];
    out[2 * i - 1] = (3 * t0 + t1 + 8) >> 4;
    out[2 * i] = (3 * t1 + t0 + 8) >> 4;
  }
  out[2 * w - 1] = (t1 + 2) >> 2;
}

function replicate(out: Uint8Array, src: Uint8Array, at: number, w: number, hs: number): void {
  for (let i = 0; i < w; i++) out.fill(src[at + i], i * hs, i * hs + hs);
}
