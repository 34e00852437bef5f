// Full-resolution rows to RGBA, as stb_image's stbi_load(…, 3) does them: YCbCr through its scalar fixed-point
// kernel (its SSE2 kernel is used only for 4-channel output, and Darknet asks for 3), whose Cb term of green has its
// low 16 bits cleared; Adobe CMYK and YCCK through its blinn_8x8 ink multiply; grey replicated.
import type { Frame } from './frame.js';
import { PlaneUpsampler } from './upsample.js';

/** stb's float2fixed: (int)(x · 4096 + 0.5) << 8, i.e. 12-bit constants in 20-bit fixed point. */
const CR_R = 1470208,
  CR_G = -748800,
  CB_G = -360960,
  CB_B = 1858048;
/** stb_image masks green's Cb term with 0xffff0000 (so that its C and SSE2 kernels agree); −65536 stays an int. */
const LOW16_CLEAR = -65536;

/** Clamping to 0..255 by lookup: YCbCr→RGB results lie within −227..481, here shifted by CLAMP_OFFSET. */
const CLAMP_OFFSET = 256;
const CLAMP = Uint8Array.from({ length: 1024 }, (_, i) => Math.max(0, Math.min(255, i - CLAMP_OFFSET)));

/** x·y/255 rounded, the way stb_image multiplies ink by black. */
const blinn = (x: number, y: number) => {
  const t = x * y + 128;
  return (t + (t >> 8)) >> 8;
};

export type ColorTransform = 'ycbcr' | 'rgb' | 'cmyk' | 'ycck' | 'gray';

/**
 * How stb_image reads the samples: 3 components are RGB only when their ids are 'R','G','B', or when an Adobe marker
 * says "no transform" and there is no JFIF marker; 4 are CMYK or YCCK by the Adobe transform, otherwise YCbCr with
 * the fourth ignored.
 */
export function colorTransform(frame: Frame, jfif: boolean, adobeTransform: number): ColorTransform {
  const n = frame.components.length;
  if (n === 1) return 'gray';
  if (n === 3) return frame.rgbIds || (adobeTransform === 0 && !jfif) ? 'rgb' : 'ycbcr';
  return adobeTransform === 0 ? 'cmyk' : adobeTransform === 2 ? 'ycck' : 'ycbcr';
}

/** The decoded planes, upsampled and colour-converted, as RGBA rows (alpha 255). */
export function toRgba(frame: Frame, transform: ColorTransform): Uint8Array {
  const { width, height } = frame;
  const out = new Uint8Array(width * height * 4).fill(255);
  const planes = frame.components.map((c) => new PlaneUpsampler(c, frame));
  const [p0, p1, p2, p3] = planes;
  const s0 = p0.src,
    s1 = p1?.src,
    s2 = p2?.src,
    s3 = p3?.src;
  for (let y = 0, o = 0; y < height; y++, o += width * 4) {
    const a0 = p0.next(),
      a1 = p1 ? p1.next() : 0,
      a2 = p2 ? p2.next() : 0,
      a3 = p3 ? p3.next() : 0;
    if (transform === 'gray') grayRow(out, o, s0, a0, width);
    else if (transform === 'rgb') rgbRow(out, o, s0, a0, s1, a1, s2, a2, width);
    else if (transform === 'cmyk') cmykRow(out, o, s0, a0, s1, a1, s2, a2, s3, a3, width);
    else {
      ycbcrRow(out, o, s0, a0, s1, a1, s2, a2, width);
      if (transform === 'ycck') inkRow(out, o, s3, a3, width);
    }
  }
  return out;
}

// Each row function reads `width` samples of each plane from its offset and writes RGB (alpha is already 255).

function grayRow(out: Uint8Array, o: number, g: Uint8Array, ga: number, width: number): void {
  for (let x = 0; x < width; x++, o += 4) out[o] = out[o + 1] = out[o + 2] = g[ga + x];
}

function rgbRow(
  out: Uint8Array,
  o: number,
  r: Uint8Array,
  ra: number,
  g: Uint8Array,
  ga: number,
  b: Uint8Array,
  ba: number,
  width: number,
): void {
  for (let x = 0; x < width; x++, o += 4) {
    out[o] = r[ra + x];
    out[o + 1] = g[ga + x];
    out[o + 2] = b[ba + x];
  }
}

function cmykRow(
  out: Uint8Array,
  o: number,
  c: Uint8Array,
  ca: number,
  m: Uint8Array,
  ma: number,
  y: Uint8Array,
  ya: number,
  k: Uint8Array,
  ka: number,
  width: number,
): void {
  for (let x = 0; x < width; x++, o += 4) {
    const ink = k[ka + x];
    out[o] = blinn(c[ca + x], ink);
    out[o + 1] = blinn(m[ma + x], ink);
    out[o + 2] = blinn(y[ya + x], ink);
  }
}

function ycbcrRow(
  out: Uint8Array,
  o: number,
  ys: Uint8Array,
  ya: number,
  bs: Uint8Array,
  ba: number,
  rs: Uint8Array,
  ra: number,
  width: number,
): void {
  const clamp = CLAMP,
    imul = Math.imul;
  for (let x = 0; x < width; x++, o += 4) {
    // Math.imul, not *: 0 times a negative constant is −0 to JavaScript, which would knock V8 off integer code.
    const y = (ys[ya + x] << 20) + (1 << 19),
      cb = bs[ba + x] - 128,
      cr = rs[ra + x] - 128;
    out[o] = clamp[((y + imul(cr, CR_R)) >> 20) + CLAMP_OFFSET];
    out[o + 1] = clamp[((y + imul(cr, CR_G) + (imul(cb, CB_G) & LOW16_CLEAR)) >> 20) + CLAMP_OFFSET];
    out[o + 2] = clamp[((y + imul(cb, CB_B)) >> 20) + CLAMP_OFFSET];
  }
}

/** YCCK after its YCbCr step: the inverted RGB times the black channel. */
function inkRow(out: Uint8Array, o: number, k: Uint8Array, ka: number, width: number): void {
  for (let x = 0; x < width; x++, o += 4) {
    const ink = k[ka + x];
    out[o] = blinn(255 - out[o], ink);
    out[o + 1] = blinn(255 - out[o + 1], ink);
    out[o + 2] = blinn(255 - out[o + 2], ink);
  }
}
