// The inverse DCT exactly as stb_image computes it on x86-64, where it uses its SSE2 kernel: jidctint's "islow"
// integer algorithm with 12-bit constants, whose even/odd sums of two inputs are 16-bit (they wrap) and whose
// column-pass results are saturated to 16 bits. Its scalar C version keeps 32 bits there, which gives other pixels
// only when coefficients are extreme (a damaged or hand-made quantisation table); elsewhere the two agree.

// stb's f2f(x) = (int)(x * 4096 + 0.5), truncating toward zero.
const C0_541 = 2217,
  C1_847 = -7567,
  C0_765 = 3135,
  C1_175 = 4816,
  C0_298 = 1223,
  C2_053 = 8410;
const C3_072 = 12586,
  C1_501 = 6149,
  C0_899 = -3685,
  C2_562 = -10497,
  C1_961 = -8034,
  C0_390 = -1597;

/** Rounding for the column pass (>> 10 keeps 2 extra bits); the row pass also adds the +128 level shift. */
const COLUMN_BIAS = 512;
const ROW_BIAS = 65536 + (128 << 17);

const imul = Math.imul;
const wrap16 = (x: number) => (x << 16) >> 16;
const sat16 = (x: number) => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);
const clamp8 = (x: number) => (x > 255 ? 255 : x < 0 ? 0 : x);

const columns = new Int32Array(64);

/** Pixels of one 8×8 block of dequantised coefficients (natural order), written at out[at] with `stride`. */
export function idctBlock(coef: Int16Array, out: Uint8Array, at: number, stride: number): void {
  const v = columns;
  for (let c = 0; c < 8; c++) {
    const s0 = coef[c],
      s1 = coef[c + 8],
      s2 = coef[c + 16],
      s3 = coef[c + 24];
    const s4 = coef[c + 32],
      s5 = coef[c + 40],
      s6 = coef[c + 48],
      s7 = coef[c + 56];
    if ((s1 | s2 | s3 | s4 | s5 | s6 | s7) === 0) {
      const dc = sat16(s0 * 4);
      v[c] = v[c + 8] = v[c + 16] = v[c + 24] = v[c + 32] = v[c + 40] = v[c + 48] = v[c + 56] = dc;
      continue;
    }
    const t2 = imul(s2, C0_541) + imul(s6, C0_541 + C1_847);
    const t3 = imul(s2, C0_541 + C0_765) + imul(s6, C0_541);
    const t0 = (wrap16(s0 + s4) << 12) + COLUMN_BIAS;
    const t1 = (wrap16(s0 - s4) << 12) + COLUMN_BIAS;
    const x0 = t0 + t3,
      x3 = t0 - t3,
      x1 = t1 + t2,
      x2 = t1 - t2;
    const s17 = wrap16(s1 + s7),
      s35 = wrap16(s3 + s5);
    const y4 = imul(s17, C1_175 + C0_899) + imul(s35, C1_175);
    const y5 = imul(s17, C1_175) + imul(s35, C1_175 + C2_562);
    const x4 = imul(s7, C1_961 + C0_298) + imul(s3, C1_961) + y4;
    const x6 = imul(s7, C1_961) + imul(s3, C1_961 + C3_072) + y5;
    const x5 = imul(s5, C0_390 + C2_053) + imul(s1, C0_390) + y5;
    const x7 = imul(s5, C0_390) + imul(s1, C0_390 + C1_501) + y4;
    const o0 = (x0 + x7) >> 10,
      o7 = (x0 - x7) >> 10,
      o1 = (x1 + x6) >> 10,
      o6 = (x1 - x6) >> 10;
    const o2 = (x2 + x5) >> 10,
      o5 = (x2 - x5) >> 10,
      o3 = (x3 + x4) >> 10,
      o4 = (x3 - x4) >> 10;
    // One test for all eight: saturation is needed only for extreme coefficients.
    if (
      ((o0 + 32768) |
        (o1 + 32768) |
        (o2 + 32768) |
        (o3 + 32768) |
        (o4 + 32768) |
        (o5 + 32768) |
        (o6 + 32768) |
        (o7 + 32768)) >>>
      16
    ) {
      (v[c] = sat16(o0)), (v[c + 8] = sat16(o1)), (v[c + 16] = sat16(o2)), (v[c + 24] = sat16(o3));
      (v[c + 32] = sat16(o4)), (v[c + 40] = sat16(o5)), (v[c + 48] = sat16(o6)), (v[c + 56] = sat16(o7));
    } else {
      (v[c] = o0), (v[c + 8] = o1), (v[c + 16] = o2), (v[c + 24] = o3);
      (v[c + 32] = o4), (v[c + 40] = o5), (v[c + 48] = o6), (v[c + 56] = o7);
    }
  }
  for (let r = 0; r < 64; r += 8, at += stride) {
    const s0 = v[r],
      s1 = v[r + 1],
      s2 = v[r + 2],
      s3 = v[r + 3];
    const s4 = v[r + 4],
      s5 = v[r + 5],
      s6 = v[r + 6],
      s7 = v[r + 7];
    const t2 = imul(s2, C0_541) + imul(s6, C0_541 + C1_847);
    const t3 = imul(s2, C0_541 + C0_765) + imul(s6, C0_541);
    const t0 = (wrap16(s0 + s4) << 12) + ROW_BIAS;
    const t1 = (wrap16(s0 - s4) << 12) + ROW_BIAS;
    const x0 = t0 + t3,
      x3 = t0 - t3,
      x1 = t1 + t2,
      x2 = t1 - t2;
    const s17 = wrap16(s1 + s7),
      s35 = wrap16(s3 + s5);
    const y4 = imul(s17, C1_175 + C0_899) + imul(s35, C1_175);
    const y5 = imul(s17, C1_175) + imul(s35, C1_175 + C2_562);
    const x4 = imul(s7, C1_961 + C0_298) + imul(s3, C1_961) + y4;
    const x6 = imul(s7, C1_961) + imul(s3, C1_961 + C3_072) + y5;
    const x5 = imul(s5, C0_390 + C2_053) + imul(s1, C0_390) + y5;
    const x7 = imul(s5, C0_390) + imul(s1, C0_390 + C1_501) + y4;
    const o0 = (x0 + x7) >> 17,
      o7 = (x0 - x7) >> 17,
      o1 = (x1 + x6) >> 17,
      o6 = (x1 - x6) >> 17;
    const o2 = (x2 + x5) >> 17,
      o5 = (x2 - x5) >> 17,
      o3 = (x3 + x4) >> 17,
      o4 = (x3 - x4) >> 17;
    if ((o0 | o1 | o2 | o3 | o4 | o5 | o6 | o7) >>> 8) {
      (out[at] = clamp8(o0)), (out[at + 1] = clamp8(o1)), (out[at + 2] = clamp8(o2)), (out[at + 3] = clamp8(o3));
      (out[at + 4] = clamp8(o4)), (out[at + 5] = clamp8(o5)), (out[at + 6] = clamp8(o6)), (out[at + 7] = clamp8(o7));
    } else {
      (out[at] = o0), (out[at + 1] = o1), (out[at + 2] = o2), (out[at + 3] = o3);
      (out[at + 4] = o4), (out[at + 5] = o5), (out[at + 6] = o6), (out[at + 7] = o7);
    }
  }
}

/** The same for a block whose only nonzero coefficient is DC: every pixel comes out equal. */
export function idctDcOnly(dc: number, out: Uint8Array, at: number, stride: number): void {
  const value = clamp8((sat16(dc * 4) * 4096 + ROW_BIAS) >> 17);
  for (let r = 0; r < 8; r++, at += stride) out.fill(value, at, at + 8);
}
