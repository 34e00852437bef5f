// An image's size from its header alone (PNG's IHDR, JPEG's SOF marker), read before decoding so that a
// small file declaring a huge image is refused by name instead of exhausting memory in the decoder.
import { LimitError, ModelFileError } from '../errors.js';
import { crc32 } from './zip.js';

/** Default for `maxPixels`: 100 megapixels (400 MB of RGBA). */
const DEFAULT_MAX_PIXELS = 100_000_000;

export const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
export const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** Width and height from a PNG or JPEG header; ModelFileError when the header is missing or damaged. */
function imageHeaderSize(bytes: Uint8Array, name: string): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng(bytes)) {
    // Signature (8), IHDR length (4) and type (4), then width and height as big-endian u32.
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
      throw new ModelFileError(name, 'image does not decode: PNG without an IHDR header');
    }
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (isJpeg(bytes)) {
    // Walk the markers to the first start-of-frame (SOF0–SOF15 except DHT C4, JPG C8 and DAC CC).
    let at = 2;
    while (at + 4 <= bytes.length) {
      if (bytes[at] !== 0xff) throw new ModelFileError(name, `image does not decode: no JPEG marker at byte ${at}`);
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at++;
        continue;
      }
      const length = view.getUint16(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (at + 9 > bytes.length) break;
        return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
      }
      if (marker === 0xd9 || marker === 0xda) break; // end of image, or scan data before any frame header
      at += 2 + length;
    }
    throw new ModelFileError(name, 'image does not decode: JPEG without a frame header (SOF)');
  }
  throw new ModelFileError(name, 'is not a PNG or JPEG image');
}

/**
 * Walks a PNG's chunks and checks each one's length and CRC-32, that IHDR comes first, that there is image
 * data, and that IEND ends it. upng-js trusts its input (a truncated or damaged file decodes to garbage, or
 * fails with a TypeError), so this runs first.
 */
export function checkPngChunks(bytes: Uint8Array, name: string): void {
  const fail = (why: string): never => {
    throw new ModelFileError(name, `image does not decode: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8,
    index = 0,
    sawData = false;
  for (;;) {
    if (at + 12 > bytes.length) fail(`the PNG is truncated (no IEND chunk after ${index} chunks)`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`chunk ${index} at byte ${at} has no valid type`);
    if (at + 12 + length > bytes.length) fail(`the PNG is truncated (chunk ${type} runs past the end)`);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length))
      fail(`chunk ${type} at byte ${at} is damaged (CRC mismatch)`);
    if (index === 0 && type !== 'IHDR') fail('the first chunk is not IHDR');
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') break;
    at += 12 + length;
    index++;
  }
  if (!sawData) fail('the PNG has no image data (IDAT)');
}

/** Throws unless the header declares a non-empty image of at most `maxPixels` pixels. */
export function checkImageSize(
  bytes: Uint8Array,
  name: string,
  maxPixels = DEFAULT_MAX_PIXELS,
): { width: number; height: number } {
  const size = imageHeaderSize(bytes, name);
  if (!size.width || !size.height)
    throw new ModelFileError(name, `image does not decode: it declares a size of ${size.width}×${size.height}`);
  if (size.width * size.height > maxPixels) {
    throw new LimitError(
      name,
      `is ${size.width}×${size.height} = ${((size.width * size.height) / 1e6).toFixed(1)} megapixels, ` +
        `over the limit of ${(maxPixels / 1e6).toFixed(1)} ` +
        '(raise it with maxPixels, or --max-pixels on the command line)',
    );
  }
  return size;
}
