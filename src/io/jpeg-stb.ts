// JPEG decoding that reproduces stb_image bit for bit (stbi_load(path, &w, &h, &c, 3), as Darknet calls it, with the
// SSE2 kernels of an x86-64 build), so that Darknet-style preprocessing sees exactly the pixels Darknet sees.
// MozJPEG (jpeg.ts) rounds its IDCT and colour conversion differently and lands up to 3 levels away.
// Written from the JPEG spec and a study of stb_image's arithmetic and corner cases, checked against stb_image itself
// (test/fixtures/jpeg-stb/README.md says how the reference pixels were made); jpeg-stb/*.ts are the parts.
import { ModelFileError } from './errors.js';
import { READ_PADDING } from './jpeg-stb/bit-reader.js';
import { colorTransform, toRgba } from './jpeg-stb/color.js';
import { BadJpeg, fail } from './jpeg-stb/fail.js';
import { parseFrame, type Frame } from './jpeg-stb/frame.js';
import { readApp, readDht, readDqt, readDri, type AppInfo } from './jpeg-stb/markers.js';
import { decodeScan, finishFrame, parseScanHeader, type Tables } from './jpeg-stb/scan.js';
import { workBuffer } from './jpeg-stb/pool.js';
import { splitEntropyData } from './jpeg-stb/segments.js';

const SOI = 0xd8,
  EOI = 0xd9,
  SOS = 0xda,
  DQT = 0xdb,
  DNL = 0xdc,
  DRI = 0xdd,
  DHT = 0xc4;

/**
 * RGBA pixels (alpha 255) of a baseline or progressive Huffman-coded JPEG, exactly as stb_image decodes it to RGB
 * (greyscale replicated, Adobe CMYK/YCCK through stb_image's ink multiply). Anything stb_image would decode into
 * garbage or refuse—truncated data, a missing EOI, arithmetic coding, 12-bit samples—throws a ModelFileError
 * naming `name`.
 */
export function decodeJpegStb(bytes: Uint8Array, name: string): { width: number; height: number; data: Uint8Array } {
  try {
    return decode(bytes);
  } catch (e) {
    const why = e instanceof BadJpeg ? e.message : `internal error (${(e as Error).message})`;
    throw new ModelFileError(name, `image does not decode: ${why}`);
  }
}

function decode(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) fail('not a JPEG file (no SOI marker)');
  const none = () => [null, null, null, null];
  const tables: Tables = { quant: none(), dc: none(), ac: none(), restartInterval: 0 };
  const app: AppInfo = { jfif: false, adobeTransform: -1 };
  let pos = 2;
  let frame: Frame | null = null;
  let scratch: Uint8Array | null = null;

  // The segment body after a marker at pos: its 2-byte length includes itself.
  const segment = () => {
    if (pos + 2 > bytes.length) fail('premature end of file');
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) fail('bad segment length');
    if (pos + length > bytes.length) fail('premature end of file (a segment runs past it)');
    const body = bytes.subarray(pos + 2, pos + length);
    pos += length;
    return body;
  };

  for (;;) {
    // Before the frame header stb_image skips stray bytes between segments; after it, a marker must follow at once.
    if (pos >= bytes.length) fail('premature end of file (no EOI marker)');
    if (bytes[pos] !== 0xff) {
      if (frame) fail(`expected a marker at byte ${pos}`);
      pos++;
      continue;
    }
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) fail('premature end of file (no EOI marker)');
    const marker = bytes[pos++];
    if (marker === EOI) {
      if (!frame) fail('no image before the EOI marker');
      break;
    }
    if (marker === DQT) readDqt(segment(), tables);
    else if (marker === DHT) readDht(segment(), tables);
    else if (marker === DRI) readDri(segment(), tables);
    else if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) readApp(marker, segment(), app);
    else if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (frame) fail('a second frame header');
      const body = segment();
      frame = parseFrame(body, marker === 0xc2, bytes.length - pos);
    } else if (marker === SOS && frame) {
      const scan = parseScanHeader(segment(), frame, tables);
      const size = bytes.length + READ_PADDING;
      scratch ??= new Uint8Array(workBuffer('entropy data', size), 0, size);
      const segs = splitEntropyData(bytes, pos, scratch);
      decodeScan(frame, scan, tables, segs);
      pos = segs.next;
    } else if (marker === DNL && frame) {
      const body = segment();
      if (body.length !== 2) fail('bad DNL length');
      if (((body[0] << 8) | body[1]) !== frame.height) fail('DNL height differs from the frame header');
    } else if ((marker === SOS || marker === DNL) && !frame) fail('a scan before the frame header');
    else fail(unsupported(marker));
  }
  const f = frame as Frame;
  if (f.components.some((c) => !c.decoded)) fail('a component has no image data (missing scans)');
  if (f.progressive) finishFrame(f, tables);
  return { width: f.width, height: f.height, data: toRgba(f, colorTransform(f, app.jfif, app.adobeTransform)) };
}

function unsupported(marker: number): string {
  const hex = marker.toString(16).toUpperCase().padStart(2, '0');
  // SOF3/7/11/15 are lossless, SOF5–7 and 13–15 hierarchical, SOF9–15 and DAC arithmetic-coded; stb_image decodes
  // none of them either.
  if (marker === 0xc3 || marker === 0xc7) return 'lossless JPEG is not supported';
  if (marker === 0xc5 || marker === 0xc6) return 'hierarchical JPEG is not supported';
  if (marker >= 0xc9 && marker <= 0xcf) return `arithmetic-coded JPEG (marker 0x${hex}) is not supported`;
  return `unexpected marker 0x${hex}`;
}
