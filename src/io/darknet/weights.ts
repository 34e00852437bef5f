// The Darknet .weights file: a header (version, images seen), then each layer's float32 arrays in cfg
// order. Kernels are stored OIHW and transposed once to HWIO; batch norm is folded into the conv.
import { ModelFileError } from '../../errors.js';

export interface WeightsHeader {
  major: number;
  minor: number;
  revision: number;
  seen: number;
}

/** The header and where the arrays start: `seen` is 64-bit from version 0.2 on, 32-bit before. */
export function readWeightsHeader(bytes: Uint8Array, file: string): { header: WeightsHeader; start: number } {
  if (bytes.length < 12)
    throw new ModelFileError(file, `is ${bytes.length} bytes, too short for a Darknet weights header (16 or 20 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = view.getInt32(0, true),
    minor = view.getInt32(4, true),
    revision = view.getInt32(8, true);
  const wide = major * 10 + minor >= 2 && major < 1000 && minor < 1000;
  const start = wide ? 20 : 16;
  if (bytes.length < start) {
    throw new ModelFileError(
      file,
      `is ${bytes.length} bytes, too short for a version ${major}.${minor} Darknet weights header (${start} bytes)`,
    );
  }
  const seen = wide ? Number(view.getBigUint64(12, true)) : view.getInt32(12, true);
  return { header: { major, minor, revision, seen }, start };
}

/** Reads float32 arrays in order from the weights bytes. */
export class WeightReader {
  private readonly view: DataView;
  constructor(
    bytes: Uint8Array,
    private offset: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.offset + 4 * i, true);
    this.offset += 4 * n;
    return out;
  }
}

/** [out][in][kh][kw] → [kh][kw][in][out]. */
export function oihwToHwio(w: Float32Array, n: number, cg: number, size: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < n; o++)
    for (let i = 0; i < cg; i++)
      for (let ky = 0; ky < size; ky++)
        for (let kx = 0; kx < size; kx++)
          out[((ky * size + kx) * cg + i) * n + o] = w[((o * cg + i) * size + ky) * size + kx];
  return out;
}
