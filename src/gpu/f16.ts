// float32 → IEEE 754 binary16 bits, rounding to nearest even as a GPU's f16(x) conversion does.
// (Float16Array is not in Node 20.) Used once per weight at upload.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toF16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, or a quiet NaN
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: inf
  if (e <= 0) {
    // Subnormal (or zero) in f16: shift the mantissa, with its implicit 1, into place.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // a carry into the exponent is still right
  return sign | out;
}

/** The array as f16 bits, padded to an even length so the buffer stays a multiple of 4 bytes. */
export function toF16Array(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length + (data.length & 1));
  for (let i = 0; i < data.length; i++) out[i] = toF16Bits(data[i]);
  return out;
}
