// Working buffers kept from one decode to the next. Decoding a video frame after frame, fresh megabyte-sized
// buffers cost more than the arithmetic in them (the OS zero-fills every new page on first touch). Reuse is safe:
// decoding is synchronous, nothing it returns aliases these, and every sample read was written during the decode.

/** Buffers larger than this (in all) are not kept, so one huge image does not pin its memory for good. */
const MAX_KEPT_BYTES = 64 << 20;

const kept = new Map<string, ArrayBuffer>();
let keptBytes = 0;

/** A buffer of at least `bytes` for the given role, with arbitrary contents. */
export function workBuffer(role: string, bytes: number): ArrayBuffer {
  const have = kept.get(role);
  if (have && have.byteLength >= bytes) return have;
  const buffer = new ArrayBuffer(bytes);
  keptBytes -= have?.byteLength ?? 0;
  if (keptBytes + bytes <= MAX_KEPT_BYTES) {
    kept.set(role, buffer);
    keptBytes += bytes;
  } else kept.delete(role);
  return buffer;
}
