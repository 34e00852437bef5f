// Pillow's Image.resize(size, Image.BICUBIC) for 8-bit RGB(A), to the bit: its separable resampler
// (libImaging/Resample.c) with the bicubic filter (a = −0.5, support 2, widened by the scale when shrinking),
// coefficients normalised in double and then fixed to 22 fractional bits, the horizontal pass first, each pass
// rounded and clipped to 8 bits. keras-yolo3's letterbox_image resizes this way.

/** Pillow's bicubic_filter. */
function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

/** precompute_coeffs + normalize_coeffs_8bpc: per output position, its first tap and integer weights. */
function coefficients(inSize: number, outSize: number): { first: number; weights: number[] }[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const out: { first: number; weights: number[] }[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k: number[] = [];
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) / filterScale);
      k.push(w);
      ww += w;
    }
    const weights = k
      .map((w) => (ww !== 0 ? w / ww : w))
      .map((w) => Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE));
    out.push({ first: xmin, weights });
  }
  return out;
}

const clip8 = (ss: number) => {
  const v = Math.floor(ss / ONE); // an arithmetic shift right by PRECISION_BITS
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** One pass over RGBA rows (horizontal) or columns (vertical); alpha is resampled like the colours. */
function pass(src: Uint8Array, w: number, h: number, outSize: number, horizontal: boolean): Uint8Array {
  const inSize = horizontal ? w : h;
  if (inSize === outSize) return src;
  const coeffs = coefficients(inSize, outSize);
  const ow = horizontal ? outSize : w,
    oh = horizontal ? h : outSize;
  const out = new Uint8Array(ow * oh * 4);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const { first, weights } = coeffs[horizontal ? x : y];
      for (let ch = 0; ch < 4; ch++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let t = 0; t < weights.length; t++) {
          const at = horizontal ? (y * w + first + t) * 4 : ((first + t) * w + x) * 4;
          ss += src[at + ch] * weights[t];
        }
        out[(y * ow + x) * 4 + ch] = clip8(ss);
      }
    }
  return out;
}

/** `Image.resize((width, height), Image.BICUBIC)` of an RGBA image. */
export function resizeBicubic(img: { width: number; height: number; data: Uint8Array }, width: number, height: number) {
  const horizontal = pass(img.data, img.width, img.height, width, true);
  return { width, height, data: pass(horizontal, width, img.height, height, false) };
}
