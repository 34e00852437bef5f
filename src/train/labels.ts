// Labels for training: integer class ids (N) or one-hot rows (N×C), from arrays or .npy files
// (np.save of a label array writes int64, which the general .npy reader leaves to this module), made
// into the target rows the loss kernel reads.
import { ModelFileError, UsageError } from '../errors.js';
import { parseNpy, type NpyArray } from '../io/npy.js';

/** .npy bytes of class ids or one-hot rows: int32/int64 as well as what parseNpy reads. */
export function parseLabelNpy(bytes: Uint8Array, name: string): NpyArray {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 512)));
  const descr = /'descr':\s*'([^']+)'/.exec(head)?.[1];
  if (descr !== '<i8' && descr !== '<i4') return parseNpy(bytes, name);
  // Read as float32 of the same width, then reinterpret: the header checks stay parseNpy's.
  const patched = new Uint8Array(bytes);
  const at = head.indexOf(descr);
  patched.set(new TextEncoder().encode(descr === '<i8' ? '<f8' : '<f4'), at);
  const parsed = parseNpy(patched, name);
  const start = bytes.length - parsed.data.length * (descr === '<i8' ? 8 : 4);
  const raw = new Uint8Array(bytes.subarray(start)).buffer; // a copy, aligned (Buffer.slice would not copy)
  const data =
    descr === '<i8' ? Float32Array.from(new BigInt64Array(raw), Number) : Float32Array.from(new Int32Array(raw));
  return { shape: parsed.shape, data, dtype: parsed.dtype };
}

export interface Targets {
  /** rows × classes, one-hot (or 0/1 per output for multi-label). */
  targets: Float32Array;
  rows: number;
  classes: number;
  /** Class id per row (argmax of a one-hot row), for reports. */
  ids: Int32Array;
}

/**
 * Labels as target rows: a 1-D array (or N×1) of class ids 0…classes−1, or an N×C array of one-hot
 * (or multi-label 0/1) rows. `classes` defaults to the largest id + 1, or C.
 */
export function toTargets(labels: NpyArray, classes?: number, name = 'labels', multiLabel = false): Targets {
  const { shape, data } = labels;
  const oneHot = shape.length === 2 && shape[1] > 1;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] >= 1))) {
    throw new ModelFileError(name, `shape (${shape.join(', ')}) is neither class ids (N) nor one-hot rows (N, C)`);
  }
  const rows = shape[0];
  if (oneHot) {
    const c = shape[1];
    if (classes !== undefined && classes !== c)
      throw new ModelFileError(name, `has ${c} classes per row, expected ${classes}`);
    const ids = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = 0,
        sum = 0;
      for (let j = 0; j < c; j++) {
        const v = data[r * c + j];
        if (!(v === 0 || v === 1))
          throw new ModelFileError(name, `row ${r} holds ${v}: one-hot rows hold only 0 and 1`);
        sum += v;
        if (v > data[r * c + best]) best = j;
      }
      if (!multiLabel && sum !== 1)
        throw new ModelFileError(
          name,
          `row ${r} has ${sum} ones; a one-hot row has exactly one (multi-label needs --output sigmoid)`,
        );
      ids[r] = best;
    }
    return { targets: data, rows, classes: c, ids };
  }
  const ids = Int32Array.from(data);
  ids.forEach((v, r) => {
    if (v !== data[r] || v < 0)
      throw new ModelFileError(name, `label ${data[r]} (row ${r}) is not a class id (a whole number ≥ 0)`);
  });
  const c = classes ?? Math.max(...ids) + 1;
  if (c < 2) throw new UsageError(`${name}: labels name a single class; training needs at least two`);
  const bad = ids.findIndex((v) => v >= c);
  if (bad >= 0) throw new ModelFileError(name, `label ${ids[bad]} (row ${bad}) is not below the ${c} classes`);
  const targets = new Float32Array(rows * c);
  ids.forEach((v, r) => {
    targets[r * c + v] = 1;
  });
  return { targets, rows, classes: c, ids };
}

/** .npy bytes of class ids as int64 (what np.save writes for a label array, and Keras's fit takes). */
export function formatLabelNpy(ids: ArrayLike<number>): Uint8Array {
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${ids.length},), }`;
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
  const out = new Uint8Array(10 + header.length + 8 * ids.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const data = new BigInt64Array(out.buffer, 10 + header.length, ids.length);
  for (let i = 0; i < ids.length; i++) data[i] = BigInt(ids[i]);
  return out;
}
