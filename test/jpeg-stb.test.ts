// The stb_image-exact JPEG decoder against stb_image's own pixels (Darknet's copy, x86-64 SSE2 build; see
// test/fixtures/jpeg-stb/README.md), and against damaged files, which must fail as ModelFileError naming the file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelFileError } from '../src/io/errors.js';
import { decodeImage, type RgbaImage } from '../src/io/image.js';
import { decodeJpegStb } from '../src/io/jpeg-stb.js';
import { fixtureBytes, fixtureJson } from './fixtures.js';

const test = suite('jpeg-stb');
const dir = 'test/fixtures/jpeg-stb';

/** Differing bytes and the largest difference, so a failure says how far off it is. */
function compare(ours: RgbaImage, ref: RgbaImage): { differing: number; max: number } {
  assert.equal([ours.width, ours.height], [ref.width, ref.height], 'size');
  let differing = 0,
    max = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(ours.data[i] - ref.data[i]);
    if (d) differing++;
    if (d > max) max = d;
  }
  return { differing, max };
}

async function assertExact(jpegPath: string, pngPath: string): Promise<void> {
  const ours = decodeJpegStb(await fixtureBytes(jpegPath), jpegPath);
  const { differing, max } = compare(ours, await decodeImage(pngPath));
  assert.ok(differing === 0, `${jpegPath}: ${differing} bytes differ from ${pngPath} (max difference ${max})`);
}

test('every fixture decodes to exactly the pixels stb_image gives', async () => {
  const refs = await fixtureJson<Record<string, string>>(`${dir}/refs.json`);
  assert.ok(Object.keys(refs).length >= 40);
  for (const [jpeg, png] of Object.entries(refs)) await assertExact(`${dir}/${jpeg}`, `${dir}/${png}`);
});

test("dog.jpg decodes to exactly the Darknet fixture's pixels", async () => {
  await assertExact('assets/images/dog.jpg', 'test/fixtures/darknet/dog.stb.png');
});

for (const name of ['eagle', 'giraffe', 'horses', 'kite', 'person']) {
  test(`${name}.jpg decodes to exactly stb_image's pixels`, async () => {
    await assertExact(`assets/images/${name}.jpg`, `${dir}/assets-${name}.png`);
  });
}

/** Decoding `bytes` either succeeds or throws a ModelFileError naming the file; returns the error, if any. */
function outcome(bytes: Uint8Array, name: string): ModelFileError | null {
  const started = Date.now();
  try {
    decodeJpegStb(bytes, name);
    return null;
  } catch (e) {
    if (!(e instanceof ModelFileError)) throw new Error(`${name}: threw ${(e as Error).name}: ${(e as Error).message}`);
    assert.ok(e.message.startsWith(`${name}: image does not decode: `), e.message);
    return e;
  } finally {
    assert.ok(Date.now() - started < 2000, `${name}: took ${Date.now() - started} ms`);
  }
}

function assertRefused(bytes: Uint8Array, name: string, reason?: RegExp): void {
  const e = outcome(bytes, name);
  assert.ok(e, `${name}: decoded, but should have been refused`);
  if (reason) assert.match(e.message, reason);
}

/** Where the first scan's entropy-coded data starts (just after its SOS segment). */
function scanStart(b: Uint8Array): number {
  for (let i = 2; i < b.length; ) {
    const length = (b[i + 2] << 8) | b[i + 3];
    if (b[i + 1] === 0xda) return i + 2 + length;
    i += 2 + length;
  }
  throw new Error('no SOS');
}

function markerAt(b: Uint8Array, marker: number): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === marker) return i;
  throw new Error(`no marker ${marker.toString(16)}`);
}

const DAMAGED = ['s420.jpg', 'progressive.jpg', 'restart-3-mcus.jpg', 'progressive-restart.jpg', 'gray.jpg'];

test('truncated files are refused, wherever they end', async () => {
  for (const f of DAMAGED) {
    const b = await fixtureBytes(`${dir}/${f}`);
    const start = scanStart(b);
    const cuts = [
      0,
      1,
      2,
      3,
      20,
      start - 5,
      start,
      start + 1,
      Math.floor(b.length / 3),
      Math.floor(b.length / 2),
      b.length - 40,
      b.length - 3,
      b.length - 2,
      b.length - 1,
    ];
    for (const cut of cuts) assertRefused(b.subarray(0, cut), `${f} cut at ${cut}`);
    // Cut anywhere in the entropy-coded data of the last scan, in steps.
    const lastScan = b.lastIndexOf(0xda) + 12;
    for (let cut = lastScan; cut < b.length - 2; cut += 97) assertRefused(b.subarray(0, cut), `${f} cut at ${cut}`);
  }
});

test('header bytes flipped, entropy-coded bytes damaged: decoded or refused, never anything else', async () => {
  for (const f of DAMAGED) {
    const b = await fixtureBytes(`${dir}/${f}`);
    const start = scanStart(b);
    for (let i = 0; i < start; i++) {
      const d = b.slice();
      d[i] ^= 0xff;
      outcome(d, `${f} with byte ${i} flipped`);
    }
    for (let i = start; i < b.length; i += 13) {
      const d = b.slice();
      d[i] = (d[i] * 31 + 7) & 0xff;
      outcome(d, `${f} with byte ${i} changed`);
    }
  }
});

test('bad headers are refused with a reason', async () => {
  const b = await fixtureBytes(`${dir}/s420.jpg`);
  const sof = markerAt(b, 0xc0);
  const withBytes = (at: number, ...bytes: number[]) => {
    const d = b.slice();
    d.set(bytes, at);
    return d;
  };
  assertRefused(new Uint8Array(0), 'empty.jpg', /no SOI/);
  assertRefused(new TextEncoder().encode('this is not a JPEG at all'), 'text.jpg', /no SOI/);
  assertRefused(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'png.jpg', /no SOI/);
  assertRefused(Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]), 'no-frame.jpg', /no image/);
  assertRefused(withBytes(sof + 5, 0, 0, 0, 0), 'zero-size.jpg', /zero/);
  assertRefused(withBytes(sof + 5, 0, 10, 0, 0), 'zero-width.jpg', /zero width/);
  assertRefused(withBytes(sof + 5, 0xff, 0xff, 0xff, 0xff), 'huge.jpg', /too large/);
  assertRefused(withBytes(sof + 5, 0x10, 0x00, 0x10, 0x00), 'large.jpg', /holds only/);
  assertRefused(withBytes(sof + 4, 12), '12-bit.jpg', /12-bit/);
  assertRefused(withBytes(sof + 9, 2), 'two-components.jpg', /components/);
  assertRefused(withBytes(sof + 1, 0xc3), 'lossless.jpg', /lossless/);
  assertRefused(await fixtureBytes(`${dir}/arithmetic.jpg`), 'arithmetic.jpg', /arithmetic/);
  const eoi = b.length - 2;
  assertRefused(withBytes(eoi, 0xff, 0xc4), 'junk-marker.jpg');
  const restart = await fixtureBytes(`${dir}/restart-rows.jpg`);
  const rst = markerAt(restart, 0xd0);
  const noRst = restart.slice();
  noRst[rst + 1] = 0x00; // the marker becomes a stuffed 0xFF data byte
  assertRefused(noRst, 'lost-restart.jpg');
});

test('decodes the same bytes however they are held, and leaves them untouched', async () => {
  const b = await fixtureBytes(`${dir}/restart-3-mcus.jpg`);
  const copy = b.slice();
  const inBigger = new Uint8Array(b.length + 10);
  inBigger.set(b, 5);
  const a = decodeJpegStb(b, 'a'),
    c = decodeJpegStb(inBigger.subarray(5, 5 + b.length), 'c');
  assert.equal(compare(a, c), { differing: 0, max: 0 });
  assert.equal(b, copy);
});

test.run();
