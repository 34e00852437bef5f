// Video in and out through ffmpeg (src/tools/video.ts): reading, damaged videos, output checks before decoding,
// no partial output after a failure, directories of frames of mixed sizes, no ffmpeg left running, no ffmpeg at all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelFileError, UsageError } from '../src/errors.js';
import { decodeImage, saveImage, type RgbaImage } from '../src/io/image.js';
import {
  checkVideoOutput,
  openFrameSink,
  openFrameSource,
  type FrameSink,
  type FrameSource,
} from '../src/tools/video.js';
import {
  damageSlices,
  eventually,
  ffmpegChildren,
  flipMdatBytes,
  makeVideo,
  rotateVideo,
  truncateMdat,
  within,
} from './video-fixtures.js';

const test = suite('video');
const dir = mkdtempSync(join(tmpdir(), 'video-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// The whole file must not hang: give up long before a CI job would.
setTimeout(() => {
  console.error('video tests: still running after 60 s, a hang');
  process.exit(1);
}, 60_000).unref();

const video = (name: string) => join(dir, name);
const clean = makeVideo(video('testsrc.mp4'), 'testsrc=size=64x48:rate=10', 1);

async function readAll(source: FrameSource): Promise<RgbaImage[]> {
  const frames: RgbaImage[] = [];
  for await (const f of source.frames()) frames.push(f);
  return frames;
}

/** The error `body` rejects with, failing the test when it resolves. */
async function rejection(body: () => Promise<unknown>): Promise<Error> {
  try {
    await body();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function meanRgb(img: RgbaImage): number[] {
  const sum = [0, 0, 0];
  for (let i = 0; i < img.data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += img.data[i + c];
  return sum.map((s) => s / (img.data.length / 4));
}

function solid(width: number, height: number, rgb: number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([...rgb, 255], i);
  return { width, height, data };
}

function probe(path: string): string {
  return spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,nb_read_frames',
      '-of',
      'csv=p=0',
      path,
    ],
    { encoding: 'utf8' },
  ).stdout.trim();
}

/** Files in a directory other than the ones expected, e.g. a temporary video left behind. */
const leftovers = (d: string, expected: string[] = []) => readdirSync(d).filter((f) => !expected.includes(f));

// ---------------------------------------------------------------------------------------------------------------
// Reading

test(
  'a video: size, frame rate, frame count, and every frame decoded whole',
  within(10_000, async () => {
    const source = await openFrameSource(clean);
    assert.equal(
      [source.kind, source.width, source.height, source.fps, source.count, source.countIsEstimate],
      ['video', 64, 48, 10, 10, undefined],
    );
    const frames = await readAll(source);
    assert.is(frames.length, 10);
    for (const f of frames) assert.equal([f.width, f.height, f.data.length], [64, 48, 64 * 48 * 4]);
    // testsrc is colour bars with a moving counter: not a grey, concealed frame.
    assert.ok(new Set(frames[5].data.filter((_, i) => i % 4 === 0)).size > 20);
  }),
);

test(
  'a solid-colour video decodes to about that colour; an mkv gives an estimated count',
  within(10_000, async () => {
    const source = await openFrameSource(makeVideo(video('blue.mkv'), 'color=c=0x3366cc:size=32x32:rate=5', 1));
    assert.equal([source.count, source.countIsEstimate], [5, true]);
    const frames = await readAll(source);
    assert.is(frames.length, 5);
    const [r, g, b] = meanRgb(frames[2]);
    assert.ok(Math.abs(r - 0x33) < 6 && Math.abs(g - 0x66) < 6 && Math.abs(b - 0xcc) < 6, `mean ${[r, g, b]}`);
  }),
);

test(
  'a rotated (portrait) video comes out with width and height swapped',
  within(10_000, async () => {
    const source = await openFrameSource(rotateVideo(clean, video('rotated.mp4'), 90));
    assert.equal([source.width, source.height], [48, 64]);
    const frames = await readAll(source);
    assert.is(frames.length, 10);
    assert.equal([frames[0].width, frames[0].height], [48, 64]);
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Damaged videos

test(
  "flipped bytes in the mdat: ModelFileError with the decoder's reason, no grey frames",
  within(10_000, async () => {
    const damaged = flipMdatBytes(clean, video('flipped.mp4'), { count: 16 });
    const source = await openFrameSource(damaged);
    let decoded = 0;
    const e = await rejection(async () => {
      for await (const _ of source.frames()) decoded++;
    });
    assert.instance(e, ModelFileError);
    assert.is((e as ModelFileError).file, damaged);
    assert.ok(decoded < 10, `${decoded} frames before the error`);
    assert.match(e.message, /flipped\.mp4: cannot be decoded: h264: \S/);
    assert.not.match(e.message, /@ 0x/); // ffmpeg's context addresses are stripped
  }),
);

test(
  'a truncated video: a ModelFileError while decoding (index first) or when opening (index last)',
  within(10_000, async () => {
    const e = await rejection(async () => readAll(await openFrameSource(truncateMdat(clean, video('cut.mp4')))));
    assert.instance(e, ModelFileError);
    const tailIndexed = makeVideo(video('tail-index.mp4'), 'testsrc=size=64x48:rate=10', 1, [], false);
    const opened = await rejection(() => openFrameSource(truncateMdat(tailIndexed, video('cut-tail.mp4'))));
    assert.instance(opened, ModelFileError);
    assert.match(opened.message, /moov atom not found/);
  }),
);

test(
  "decodeErrors: 'conceal' reads a damaged video to its end and says how many errors it hid",
  within(10_000, async () => {
    const notices: string[] = [];
    const damaged = flipMdatBytes(clean, video('flipped-conceal.mp4'), { count: 16 });
    const source = await openFrameSource(damaged, { decodeErrors: 'conceal', onNotice: (m) => notices.push(m) });
    const frames = await readAll(source);
    assert.ok(frames.length >= 5, `${frames.length} frames`);
    assert.is(notices.length, 1);
    assert.match(notices[0], /ffmpeg concealed \d+ decoder errors/);
  }),
);

test(
  'a long damaged video (over 64 KiB of ffmpeg errors) neither hangs nor passes',
  within(20_000, async () => {
    // 500 intra frames, every slice damaged: about 1,500 error lines (90 KB), more than a stderr pipe holds.
    const long = makeVideo(video('long.mp4'), 'testsrc=size=32x32:rate=25', 20, ['-g', '1']);
    const damaged = damageSlices(long, video('long-damaged.mp4'));
    const strict = await rejection(async () => readAll(await openFrameSource(damaged)));
    assert.instance(strict, ModelFileError);
    const notices: string[] = [];
    const concealing = await openFrameSource(damaged, { decodeErrors: 'conceal', onNotice: (m) => notices.push(m) });
    const all = await readAll(concealing);
    assert.is(all.length, 500);
    const errors = Number(/concealed (\d+)/.exec(notices[0])?.[1]);
    assert.ok(errors > 1000, notices[0]);
  }),
);

test(
  'a missing input, one that is not a video, an empty directory: ModelFileError',
  within(10_000, async () => {
    const notVideo = /package\.json: is not a video ffprobe can read: Invalid data/;
    for (const [input, message] of [
      [video('nothing.mp4'), /no such file/],
      ['package.json', notVideo],
    ] as const) {
      const e = await rejection(() => openFrameSource(input));
      assert.instance(e, ModelFileError);
      assert.match(e.message, message);
    }
    const empty = join(dir, 'empty-dir');
    mkdirSync(empty);
    assert.match((await rejection(() => openFrameSource(empty))).message, /no \.jpg, \.jpeg or \.png frames/);
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Checking outputs before anything is decoded

test('outputs that cannot work are refused at once, naming the file', () => {
  const refused = (output: string, kind: 'video' | 'frames', message: RegExp) => {
    const started = Date.now();
    try {
      checkVideoOutput(output, kind);
    } catch (e) {
      assert.instance(e, ModelFileError);
      assert.match((e as Error).message, message);
      assert.ok(Date.now() - started < 2000);
      return;
    }
    assert.unreachable(`${output} was accepted`);
  };
  const supported = /use \.mp4, \.m4v, \.mov, \.mkv, \.avi/;
  const missingDir = /out\.mp4: cannot be written: the directory \S*no-such-dir does not exist/;
  refused(join(dir, 'no-such-dir', 'out.mp4'), 'video', missingDir);
  refused(join(dir, 'out.webm'), 'video', supported);
  refused(join(dir, 'out.xyz'), 'video', /out\.xyz: has the extension \.xyz/);
  refused(join(dir, 'out'), 'video', /out: has no extension/);
  refused(join(dir, 'out'), 'video', supported);
  mkdirSync(join(dir, 'a-dir.mp4'));
  refused(join(dir, 'a-dir.mp4'), 'video', /is a directory/);
  refused(join(dir, 'no-such-dir', 'frames'), 'frames', /does not exist/);
  refused(clean, 'frames', /is a file, not a directory/);
  assert.throws(
    () => openFrameSink(join(dir, 'out.xyz'), { width: 8, height: 8, fps: 5, kind: 'video' }),
    (e: Error) => e instanceof ModelFileError,
  );
  for (const ok of [join(dir, 'ok.mp4'), join(dir, 'ok.MKV'), join(dir, 'ok.avi')]) checkVideoOutput(ok, 'video');
  checkVideoOutput(join(dir, 'new-frames'), 'frames');
  assert.is(ffmpegChildren().length, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Writing, and leaving nothing behind after a failure

async function writeFrames(sink: FrameSink, n: number, width: number, height: number): Promise<void> {
  for (let i = 0; i < n; i++) await sink.write(solid(width, height, [i * 40, 100, 200]));
}

test(
  'a video sink pads odd sizes, writes every frame, and renames its temp file onto the output',
  within(10_000, async () => {
    const out = join(dir, 'written', 'out.mp4');
    mkdirSync(join(dir, 'written'));
    const sink = openFrameSink(out, { width: 63, height: 47, fps: 10, kind: 'video' });
    await writeFrames(sink, 5, 63, 47);
    assert.not.ok(existsSync(out)); // only a hidden temp file until finish()
    await sink.finish();
    assert.equal(readdirSync(join(dir, 'written')), ['out.mp4']);
    assert.is(probe(out), '64,48,5');
    // It reads back as the colours written.
    const back = await readAll(await openFrameSource(out));
    assert.equal([back.length, back[4].width, back[4].height], [5, 64, 48]);
    assert.ok(Math.abs(meanRgb(back[4])[0] - 160) < 12, `red ${meanRgb(back[4])[0]}`);
  }),
);

test(
  'abort after two frames: no output and no temp file',
  within(10_000, async () => {
    const d = join(dir, 'aborted');
    mkdirSync(d);
    const sink = openFrameSink(join(d, 'out.mp4'), { width: 64, height: 48, fps: 10, kind: 'video' });
    await writeFrames(sink, 2, 64, 48);
    await sink.abort();
    assert.equal(leftovers(d), []);
    assert.ok(await eventually(() => ffmpegChildren().length === 0));
  }),
);

test(
  'the encoder killed midway: write() or finish() rejects with ModelFileError, nothing is left',
  within(10_000, async () => {
    const d = join(dir, 'killed');
    mkdirSync(d);
    // 320×240 frames overflow the pipe, so a write waits for 'drain' that a dead ffmpeg never sends.
    const sink = openFrameSink(join(d, 'out.mp4'), { width: 320, height: 240, fps: 10, kind: 'video' });
    await writeFrames(sink, 2, 320, 240);
    const [pid] = ffmpegChildren();
    process.kill(pid, 'SIGKILL');
    const e = await rejection(async () => {
      await writeFrames(sink, 50, 320, 240);
      await sink.finish();
    });
    assert.instance(e, ModelFileError);
    assert.match(e.message, /out\.mp4: ffmpeg was killed by SIGKILL/);
    assert.equal(leftovers(d), []);
    await sink.abort(); // harmless after a failure
    assert.is(ffmpegChildren().length, 0);
  }),
);

test(
  'finish() without frames fails rather than leave an empty video; wrong-size frames are refused',
  within(10_000, async () => {
    const d = join(dir, 'empty-video');
    mkdirSync(d);
    const sink = openFrameSink(join(d, 'out.mp4'), { width: 16, height: 16, fps: 10, kind: 'video' });
    assert.match((await rejection(() => sink.write(solid(8, 8, [0, 0, 0])))).message, /frame 0 is 8×8/);
    const e = await rejection(() => sink.finish());
    assert.match(e.message, /out\.mp4: no frames were written/);
    assert.equal(leftovers(d), []);
  }),
);

test(
  'a frames sink writes frame_00000.jpg…; abort removes them only from a directory it created',
  within(10_000, async () => {
    const created = join(dir, 'frames-new');
    const sink = openFrameSink(created, { width: 16, height: 8, fps: 10, kind: 'frames' });
    await writeFrames(sink, 3, 16, 8);
    assert.equal(readdirSync(created), ['frame_00000.jpg', 'frame_00001.jpg', 'frame_00002.jpg']);
    await sink.abort();
    assert.not.ok(existsSync(created));

    const existing = join(dir, 'frames-old');
    mkdirSync(existing);
    const kept = openFrameSink(existing, { width: 16, height: 8, fps: 10, kind: 'frames' });
    await writeFrames(kept, 2, 16, 8);
    await kept.abort();
    assert.equal(readdirSync(existing), ['frame_00000.jpg', 'frame_00001.jpg']);
    const img = await decodeImage(join(existing, 'frame_00001.jpg'));
    assert.equal([img.width, img.height], [16, 8]);
  }),
);

/** A stand-in for ffmpeg: a shell script that answers -version and otherwise runs `body`. */
function fakeFfmpeg(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n[ "$1" = -version ] && exit 0\n${body}\n`, { mode: 0o755 });
  return path;
}

test(
  'an encoder that fails by itself: its reason, from write() or finish(); nothing left',
  within(10_000, async () => {
    const d = join(dir, 'disk-full');
    mkdirSync(d);
    const ffmpeg = fakeFfmpeg(
      'ffmpeg-disk-full',
      'head -c 1000 >/dev/null\n' +
        'echo "[libx264 @ 0x55d0c0ffee00] Error: No space left on device" >&2\necho "Conversion failed!" >&2\nexit 1',
    );
    const sink = openFrameSink(join(d, 'out.mp4'), { width: 320, height: 240, fps: 10, kind: 'video', ffmpeg });
    const e = await rejection(async () => {
      await writeFrames(sink, 20, 320, 240);
      await sink.finish();
    });
    assert.instance(e, ModelFileError);
    assert.is(e.message, `${join(d, 'out.mp4')}: ffmpeg cannot write it: libx264: Error: No space left on device`);
    assert.equal(leftovers(d), []);
  }),
);

test(
  'a decoder that exits 0 mid-frame, or with errors on stderr: ModelFileError, unless concealing',
  within(10_000, async () => {
    const midFrame = fakeFfmpeg('ffmpeg-mid-frame', 'head -c 20000 /dev/zero');
    const cut = await rejection(async () => readAll(await openFrameSource(clean, { ffmpeg: midFrame })));
    assert.match(cut.message, /testsrc\.mp4: the decoder stopped 7712 bytes into a frame/);
    const complaining = fakeFfmpeg(
      'ffmpeg-complaining',
      'head -c 12288 /dev/zero\necho "[h264 @ 0x5600aa] concealing 12 DC errors in P frame" >&2',
    );
    const e = await rejection(async () => readAll(await openFrameSource(clean, { ffmpeg: complaining })));
    assert.match(e.message, /testsrc\.mp4: cannot be decoded: h264: concealing 12 DC errors in P frame$/);
    const notices: string[] = [];
    const options = { ffmpeg: complaining, decodeErrors: 'conceal' as const, onNotice: (m: string) => notices.push(m) };
    assert.is((await readAll(await openFrameSource(clean, options))).length, 1);
    assert.match(notices[0], /concealed 1 decoder errors \(first: h264: concealing 12 DC errors/);
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Directories of frames

async function frameDir(name: string, sizes: [number, number][]): Promise<string> {
  const d = join(dir, name);
  mkdirSync(d);
  // Named so that plain sorting would put frame_10 before frame_2.
  for (const [i, [w, h]] of sizes.entries()) {
    await saveImage(solid(w, h, [i * 20, 50, 90]), join(d, `frame_${i * 5}.png`));
  }
  writeFileSync(join(d, 'notes.txt'), 'not a frame');
  return d;
}

test(
  "mixed sizes in a directory: scaled to the first frame's size with one notice",
  within(10_000, async () => {
    const d = await frameDir('mixed', [
      [32, 24],
      [32, 24],
      [64, 48],
      [16, 12],
    ]);
    const notices: string[] = [];
    const source = await openFrameSource(d, { onNotice: (m) => notices.push(m), fps: 12 });
    assert.equal([source.kind, source.width, source.height, source.fps, source.count], ['frames', 32, 24, 12, 4]);
    const frames = await readAll(source);
    assert.equal(
      frames.map((f) => [f.width, f.height]),
      [
        [32, 24],
        [32, 24],
        [32, 24],
        [32, 24],
      ],
    );
    assert.equal(
      frames.map((f) => f.data[0]),
      [0, 20, 40, 60],
    ); // natural order: frame_0, 5, 10, 15
    assert.equal(notices, ["frame_10.png is 64×48; scaled to the first frame's 32×24 (and any others that differ)"]);
  }),
);

test(
  "mixed sizes with mixedSizes: 'refuse': ModelFileError naming the frame",
  within(10_000, async () => {
    const d = await frameDir('mixed-refused', [
      [32, 24],
      [64, 48],
    ]);
    const source = await openFrameSource(d, { mixedSizes: 'refuse' });
    const e = await rejection(() => readAll(source));
    assert.instance(e, ModelFileError);
    assert.match(e.message, /frame_5\.png: is 64×48, not the first frame's 32×24/);
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// No ffmpeg left running, no ffmpeg at all

test(
  'stopping early leaves no ffmpeg running: breaking the loop, or close() on an abandoned one',
  within(10_000, async () => {
    const long = makeVideo(video('long-clean.mp4'), 'testsrc=size=64x48:rate=25', 20);
    const source = await openFrameSource(long);
    let n = 0;
    for await (const _ of source.frames()) if (++n === 2) break;
    assert.ok(await eventually(() => ffmpegChildren().length === 0), 'after break');

    const frames = source.frames();
    await frames.next();
    await frames.next();
    assert.is(ffmpegChildren().length, 1);
    await source.close();
    assert.is(ffmpegChildren().length, 0, 'after close()');
    assert.is((await frames.next()).done, true); // a closed source ends, it does not throw
  }),
);

test(
  'without ffmpeg: a UsageError saying how to install it; a directory of frames still works',
  within(10_000, async () => {
    const emptyPath = join(dir, 'empty-path');
    mkdirSync(emptyPath);
    const saved = process.env.PATH;
    process.env.PATH = emptyPath;
    try {
      for (const attempt of [() => openFrameSource(clean), async () => checkVideoOutput(join(dir, 'x.mp4'), 'video')]) {
        const e = await rejection(attempt);
        assert.instance(e, UsageError);
        assert.match(e.message, /needs ffmpeg .*npm run setup.*apt-get install ffmpeg.*directory of \.jpg\/\.png/);
      }
      assert.is((await readAll(await openFrameSource(await frameDir('no-ffmpeg', [[8, 8]])))).length, 1);
    } finally {
      process.env.PATH = saved;
    }
    const e = await rejection(async () => readAll(await openFrameSource(clean, { ffmpeg: 'no-such-ffmpeg' })));
    assert.instance(e, UsageError);
    assert.match(e.message, /no-such-ffmpeg was not found/);
  }),
);

test.run();
