// detect and detect-video as users run them: printed lines, annotated outputs, frame rates, errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, resizeImage, saveImage } from '../src/io/image.js';

const test = suite('darknet cli');
const dir = mkdtempSync(join(tmpdir(), 'darknet-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("detect (bundled detector) prints exactly Darknet's lines (formats.md §2.9) and keras-yolo3's", async () => {
  const out = join(dir, 'pred.png');
  const r = cli(['detect', 'assets/images/dog.jpg', '--out', out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Predicted in [\d.]+ seconds/);
  // Darknet's order (by left edge) and percentages; its boxes [114,190,406,507], [237,184,591,437], [468,72,655,162].
  const lines = r.out.split('\n').slice(1, 8);
  assert.equal(lines, [
    'Found 3 boxes for dog.jpg',
    'dog: 61%',
    'bicycle: 60%',
    'car: 54%',
    'dog 0.61 (114, 190) (406, 507)',
    'bicycle 0.60 (237, 184) (591, 437)',
    'car 0.54 (468, 72) (655, 162)',
  ]);
  const img = await decodeImage(out);
  const original = await decodeImage('assets/images/dog.jpg');
  assert.equal([img.width, img.height], [original.width, original.height]);
  // The dog's box edge (x = 114…) is drawn: pixels there differ from the original.
  const at = (im: typeof img, x: number, y: number) =>
    Array.from(im.data.subarray((y * im.width + x) * 4, (y * im.width + x) * 4 + 3));
  assert.not.equal(at(img, 115, 350), at(original, 115, 350));
});

test('detect writes NAME_detections.jpg next to each input by default, and errors name the file', async () => {
  const copy = join(dir, 'dog.jpg');
  await saveImage(await decodeImage('assets/images/dog.jpg'), copy);
  assert.is(cli(['detect', copy]).code, 0);
  assert.ok(existsSync(join(dir, 'dog_detections.jpg')));
  const bad = cli(['detect', 'package.json']);
  assert.is(bad.code, 2);
  assert.match(bad.err, /package\.json: is not a PNG or JPEG image/);
  const half = cli(['detect', '--cfg', 'assets/darknet/yolov3-tiny.cfg', 'assets/images/dog.jpg']);
  assert.match(half.err, /give both --cfg and --weights/);
});

test('detect-video over a directory of frames writes annotated frames and reports fps', async () => {
  const frames = join(dir, 'frames');
  mkdirSync(frames, { recursive: true });
  const dog = resizeImage(await decodeImage('assets/images/dog.jpg'), 384, 288);
  for (let i = 0; i < 3; i++) await saveImage(dog, join(frames, `f${i}.png`));
  const out = join(dir, 'annotated');
  const r = cli(['detect-video', frames, out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Found \d+ boxes for frame 0 of 3/);
  assert.match(r.out, /3 frames in [\d.]+ s: [\d.]+ frames per second/);
  assert.is(readdirSync(out).length, 3);
});

const hasFfmpeg = !spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).error;

test('detect-video through ffmpeg: an mp4 in, an annotated mp4 out; without ffmpeg it says so', async () => {
  if (!hasFfmpeg) throw new Error('ffmpeg is missing: npm run setup installs it');
  const video = join(dir, 'in.mp4');
  const mk = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    'assets/images/dog.jpg',
    '-vf',
    'scale=384:288',
    '-frames:v',
    '4',
    '-r',
    '5',
    '-pix_fmt',
    'yuv420p',
    video,
  ]);
  assert.is(mk.status, 0, String(mk.stderr));
  const out = join(dir, 'out.mp4');
  const r = cli(['detect-video', video, out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Found \d+ boxes for frame 3/);
  const probe = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=nb_read_frames,width,height',
      '-of',
      'csv=p=0',
      out,
    ],
    { encoding: 'utf8' },
  );
  assert.is(probe.stdout.trim(), '384,288,4');
  const noFfmpeg = cli(['detect-video', video, join(dir, 'x.mp4')], { ...process.env, PATH: '/nonexistent' });
  assert.is(noFfmpeg.code, 2);
  assert.match(noFfmpeg.err, /needs ffmpeg/);
});

test.run();
