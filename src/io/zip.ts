// Reading the entries of a zip archive (a .keras file) without trusting it: the central directory is read
// first, so every entry's declared size is checked against a limit before anything is inflated; only the
// entries asked for are read; inflation (fflate) stops at the declared size, so a zip bomb cannot grow past
// it; and each entry's CRC-32 is checked. A file on disk is read by ranges, never whole, and an entry can be
// streamed to a file. The container format is simple enough to read here; DEFLATE itself is fflate's.
import { Inflate } from 'fflate';
import { LimitError, ModelFileError } from '../errors.js';
import { isNode } from '../env.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (others are refused when read). */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** Random access to the archive's bytes: a file on disk (Node) or bytes in memory. */
interface ByteRange {
  length: number;
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Running CRC-32 (the zip and PNG polynomial): pass the previous value to continue. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const CHUNK = 4 << 20;

export class ZipArchive {
  private constructor(
    private readonly bytes: ByteRange,
    readonly name: string,
    readonly entries: ZipEntry[],
  ) {}

  /** Opens bytes, or a path on disk (Node), reading only the central directory. */
  static async open(source: Uint8Array | string, name: string): Promise<ZipArchive> {
    const range = typeof source === 'string' ? await fileRange(source) : memoryRange(source);
    try {
      return new ZipArchive(range, name, readDirectory(range, name));
    } catch (e) {
      range.close();
      throw e;
    }
  }

  entry(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /** An entry's bytes; refused before reading when it declares more than `maxBytes`. */
  read(entry: ZipEntry, maxBytes: number, limitHint: string): Uint8Array {
    if (entry.size > maxBytes) {
      throw new LimitError(
        this.name,
        `archive entry '${entry.name}' is ${entry.size} bytes, over the limit of ${maxBytes} (${limitHint})`,
      );
    }
    const out = new Uint8Array(entry.size);
    let at = 0;
    this.inflate(entry, (chunk) => {
      out.set(chunk, at);
      at += chunk.length;
    });
    return out;
  }

  /** Streams an entry into the file at `path` (Node), chunk by chunk. */
  async extractTo(entry: ZipEntry, path: string): Promise<void> {
    const fs = await import(/* @vite-ignore */ 'node:fs');
    const fd = fs.openSync(path, 'w');
    try {
      this.inflate(entry, (chunk) => fs.writeSync(fd, chunk));
    } finally {
      fs.closeSync(fd);
    }
  }

  close(): void {
    this.bytes.close();
  }

  /** Feeds the entry's data to `sink` in chunks, stopping at its declared size, and checks size and CRC. */
  private inflate(entry: ZipEntry, sink: (chunk: Uint8Array) => void): void {
    const fail = (why: string): never => {
      throw new ModelFileError(this.name, `archive entry '${entry.name}' is damaged: ${why}`);
    };
    const header = this.bytes.read(entry.localHeaderOffset, 30);
    const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (header.length < 30 || hv.getUint32(0, true) !== 0x04034b50) fail('no local header where the directory points');
    const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (start + entry.compressedSize > this.bytes.length) fail('its data runs past the end of the archive');
    let written = 0,
      crc = 0;
    const emit = (chunk: Uint8Array) => {
      if (written + chunk.length > entry.size) fail(`it inflates to more than the ${entry.size} bytes it declares`);
      written += chunk.length;
      crc = crc32(chunk, crc);
      if (chunk.length) sink(chunk);
    };
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) fail('a stored entry whose sizes differ');
      for (let at = 0; at < entry.size; at += CHUNK)
        emit(this.bytes.read(start + at, Math.min(CHUNK, entry.size - at)));
    } else if (entry.method === 8) {
      const inflater = new Inflate((chunk) => emit(chunk));
      try {
        for (let at = 0; at < entry.compressedSize; at += CHUNK) {
          const n = Math.min(CHUNK, entry.compressedSize - at);
          inflater.push(this.bytes.read(start + at, n), at + n >= entry.compressedSize);
        }
      } catch (e) {
        if (e instanceof ModelFileError) throw e;
        fail((e as Error).message);
      }
    } else {
      throw new ModelFileError(
        this.name,
        `archive entry '${entry.name}' uses compression method ${entry.method}; ` +
          'only stored and deflated entries are supported',
      );
    }
    if (written !== entry.size) fail(`it holds ${written} bytes, the directory says ${entry.size}`);
    if (crc !== entry.crc32) fail('CRC-32 mismatch');
  }
}

function readDirectory(bytes: ByteRange, name: string): ZipEntry[] {
  const notZip = (why: string): never => {
    throw new ModelFileError(name, `is not a readable .keras archive: ${why}`);
  };
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  const tailLength = Math.min(bytes.length, 22 + 0xffff);
  const tail = bytes.read(bytes.length - tailLength, tailLength);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) notZip('no end-of-central-directory record (truncated?)');
  const count = tv.getUint16(eocd + 10, true);
  const dirSize = tv.getUint32(eocd + 12, true),
    dirOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff)
    notZip('ZIP64 archives (over 4 GB or 65535 entries) are not supported');
  if (dirOffset + dirSize > bytes.length) notZip('the central directory lies outside the file (truncated?)');
  const dir = bytes.read(dirOffset, dirSize);
  const dv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > dir.length || dv.getUint32(at, true) !== 0x02014b50)
      notZip(`central directory entry ${i} is damaged`);
    const nameLength = dv.getUint16(at + 28, true),
      extra = dv.getUint16(at + 30, true),
      comment = dv.getUint16(at + 32, true);
    const entry: ZipEntry = {
      method: dv.getUint16(at + 10, true),
      crc32: dv.getUint32(at + 16, true),
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      localHeaderOffset: dv.getUint32(at + 42, true),
      name: new TextDecoder().decode(dir.subarray(at + 46, at + 46 + nameLength)),
    };
    if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff)
      notZip(`entry '${entry.name}' needs ZIP64, which is not supported`);
    entries.push(entry);
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

function memoryRange(bytes: Uint8Array): ByteRange {
  return {
    length: bytes.length,
    read: (offset, length) => bytes.subarray(Math.max(0, offset), Math.min(bytes.length, offset + length)),
    close() {},
  };
}

async function fileRange(path: string): Promise<ByteRange> {
  if (!isNode) throw new Error('reading a zip by path needs Node');
  const fs = await import(/* @vite-ignore */ 'node:fs');
  const fd = fs.openSync(path, 'r');
  const length = fs.fstatSync(fd).size;
  return {
    length,
    read(offset, n) {
      const out = new Uint8Array(Math.max(0, Math.min(n, length - offset)));
      fs.readSync(fd, out, 0, out.length, offset);
      return out;
    },
    close: () => fs.closeSync(fd),
  };
}
