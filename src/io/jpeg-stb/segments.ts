// A scan's entropy-coded data cut at its restart markers, with 0xFF00 stuffing removed, found the way stb_image
// finds markers: 0xFF, any 0xFF fill bytes, then a byte that is neither 0x00 (stuffing) nor 0xFF.

export interface EntropySegments {
  /** Unstuffed bytes of every segment, back to back. */
  data: Uint8Array;
  /** Segment i is data[bounds[2i], bounds[2i + 1]). */
  bounds: number[];
  /** Where the marker that ends the scan starts in the file, or the file's length if none does. */
  next: number;
}

/** Reads from bytes[pos] on; `scratch` (at least as long as `bytes`) receives the data. */
export function splitEntropyData(bytes: Uint8Array, pos: number, scratch: Uint8Array): EntropySegments {
  const bounds = [0];
  let out = 0;
  for (;;) {
    const ff = bytes.indexOf(0xff, pos);
    const stop = ff < 0 ? bytes.length : ff;
    scratch.set(bytes.subarray(pos, stop), out);
    out += stop - pos;
    let q = stop + 1;
    while (q < bytes.length && bytes[q] === 0xff) q++;
    if (q >= bytes.length) {
      bounds.push(out);
      return { data: scratch, bounds, next: bytes.length };
    }
    const m = bytes[q];
    pos = q + 1;
    if (m === 0) scratch[out++] = 0xff;
    else if (m >= 0xd0 && m <= 0xd7) bounds.push(out, out);
    else {
      bounds.push(out);
      return { data: scratch, bounds, next: stop };
    }
  }
}
