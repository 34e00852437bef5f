// NumPy .npy files (format versions 1–3): float32, float64 and uint8, C order, little-endian.
// Values come back as float32; anything else is rejected with the reason.
import { ModelFileError } from './errors.js';
import { UsageError } from '../errors.js';

export interface NpyArray {
  shape: number[];
  data: Float32Array;
  /** The dtype stored in the file. */
  dtype: '<f4' | '<f8' | '|u1';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses .npy bytes; `name` is used in error messages. */
export function parseNpy(bytes: Uint8Array, name = '.npy data'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new ModelFileError(name, 'is not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major < 1 || major > 3) throw new ModelFileError(name, `.npy format version ${major} is not supported`);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new ModelFileError(name, `is ${bytes.length} bytes, too short for a .npy header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLen > bytes.length) {
    throw new ModelFileError(
      name,
      `declares a ${headerLen}-byte header, but the file is only ${bytes.length} bytes (truncated or damaged)`,
    );
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new ModelFileError(name, `malformed .npy header: ${header.trim()}`);
  if (fortran === 'True')
    throw new ModelFileError(name, 'is in Fortran order; save it C-ordered (np.ascontiguousarray)');
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (dims.some((d) => !/^\d+L?$/.test(d)))
    throw new ModelFileError(name, `shape (${shapeText}) is not a list of sizes`);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new ModelFileError(name, `shape (${shape.join(', ')}) is too large`);
  const dataStart = start + headerLen;
  const sizes: Record<string, number> = { '<f4': 4, '<f8': 8, '|u1': 1, '<u1': 1 };
  const size = sizes[descr];
  if (!size)
    throw new ModelFileError(name, `dtype '${descr}' is not supported (float32, float64 or uint8, little-endian)`);
  if (bytes.length - dataStart !== count * size) {
    throw new ModelFileError(
      name,
      `holds ${bytes.length - dataStart} data bytes, shape (${shape.join(', ')}) of '${descr}' needs ${count * size}`,
    );
  }
  // A copy, aligned for the typed arrays (Buffer.slice would not copy).
  const raw = new Uint8Array(bytes.subarray(dataStart)).buffer;
  const data =
    size === 4 ? new Float32Array(raw) : Float32Array.from(size === 8 ? new Float64Array(raw) : new Uint8Array(raw));
  return { shape, data, dtype: size === 1 ? '|u1' : (descr as '<f4' | '<f8') };
}

/** .npy bytes (version 1.0, float32, C order) for `data` of `shape`. */
export function formatNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new UsageError(`formatNpy: ${data.length} values do not fill shape [${shape.join(', ')}]`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`; // pad so the data starts 64-aligned
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export async function readNpy(path: string): Promise<NpyArray> {
  const { readBytes } = await import('./source.js');
  return parseNpy(await readBytes(path), path);
}

/** Writes through a temporary file and a rename, so a failure never leaves half a file. */
export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const { writeFileAtomic } = await import('./write.js');
  await writeFileAtomic(path, formatNpy(data, shape));
}
