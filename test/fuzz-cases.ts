// Damaged inputs for the fuzz test, generated here from the bundled files: truncations at many offsets,
// flipped bytes, bad configs and cfgs, bad images and .npy files, bad options, bad outputs and videos.
// Each case says what the CLI must do: refuse it naming a file or option, or (for mutations that can leave
// a file valid, such as a flipped pixel byte) either refuse it cleanly or succeed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatNpy } from '../src/io/npy.js';
import { randomArray, rng } from './harness.js';
import { writeFullModelH5 } from './keras-writer.js';

export interface FuzzCase {
  group: string;
  name: string;
  argv: string[];
  /** What the one error line must contain (a file name, option, layer or cfg line). */
  names?: RegExp;
  /** Success is also acceptable (the damage may leave the input valid). */
  mayPass?: boolean;
}

const CFG = 'assets/darknet/yolo-fastest-1.1.cfg';
const WEIGHTS = 'assets/darknet/yolo-fastest-1.1.weights';
const DOG = 'assets/images/dog.jpg';

/** A short name for a path in a message pattern. */
const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

export async function fuzzCases(dir: string): Promise<FuzzCase[]> {
  mkdirSync(join(dir, 'out'), { recursive: true });
  const out = (name: string) => join(dir, 'out', name);
  return [
    ...optionCases(dir, out),
    ...cfgCases(dir, out),
    ...weightsCases(dir, out),
    ...imageCases(dir, out),
    ...npyCases(dir),
    ...(await kerasCases(dir)),
    ...outputCases(dir),
    ...videoCases(dir),
  ];
}

function optionCases(dir: string, out: (n: string) => string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const detect = (name: string, args: string[], names: RegExp) =>
    cases.push({ group: 'options', name, argv: ['detect', DOG, '--out', out('o.jpg'), ...args], names });
  for (const v of ['abc', '2', '', '1e999', 'nan', '-1', '0x1', '1,5', ' '])
    detect(`--thresh ${JSON.stringify(v)}`, ['--thresh', v], /--thresh/);
  for (const v of ['abc', '1.5', '-0.1', 'Infinity']) detect(`--nms ${v}`, ['--nms', v], /--nms/);
  for (const v of ['100', 'abc', '-32', '0', '32x', 'x32', '32x32x32', '99999'])
    detect(`--size ${v}`, ['--size', v], /--size/);
  for (const v of ['0', '-5', '1.5']) detect(`--max-pixels ${v}`, ['--max-pixels', v], /--max-pixels/);
  detect('--thresh without a value', ['--thresh'], /--thresh/);
  detect('unknown option', ['--frobnicate'], /--frobnicate/);
  detect('--cfg without --weights', ['--cfg', CFG], /--weights/);
  detect('--out given twice as a flag value', ['--profile=1'], /--profile/);
  const model = join(dir, 'small.h5');
  const keras = (cmd: string, name: string, args: string[], names: RegExp) =>
    cases.push({ group: 'options', name: `${cmd} ${name}`, argv: [cmd, '--model', model, ...args], names });
  for (const v of ['0', '-1', '1.5', 'abc', '1001']) keras('classify', `--top ${v}`, [DOG, '--top', v], /--top/);
  for (const v of ['0', '-2', 'x']) keras('classify', `--batch ${v}`, [DOG, '--batch', v], /--batch/);
  for (const v of ['foo', 'CAFFE', ''])
    keras('classify', `--preprocess ${JSON.stringify(v)}`, [DOG, '--preprocess', v], /--preprocess/);
  for (const v of ['bicubic', ''])
    keras('predict', `--interpolation ${JSON.stringify(v)}`, [DOG, '--interpolation', v], /--interpolation/);
  for (const v of ['a,b,c', '0,6,2', '-6,6,2', ''])
    keras('predict', `--input-shape ${JSON.stringify(v)}`, [join(dir, 'x.npy'), '--input-shape', v], /--input-shape/);
  for (const v of ['-1', 'abc', '2', 'nan'])
    keras(
      'validate',
      `--tol ${v}`,
      ['--input', join(dir, 'x.npy'), '--expected', join(dir, 'y.npy'), '--tol', v],
      /--tol/,
    );
  keras('validate', 'without --input', ['--expected', join(dir, 'y.npy')], /--input/);
  keras('predict', 'two inputs', [DOG, DOG], /predict: expects 1/);
  cases.push({ group: 'options', name: 'unknown command', argv: ['frobnicate'], names: /frobnicate/ });
  cases.push({ group: 'options', name: 'predict without --model', argv: ['predict', DOG], names: /--model/ });
  cases.push({ group: 'options', name: 'tune --batch 0', argv: ['tune', '--batch', '0'], names: /--batch/ });
  cases.push({ group: 'options', name: 'tune --size 33', argv: ['tune', '--size', '33'], names: /--size/ });
  cases.push({
    group: 'options',
    name: 'detect-video one argument',
    argv: ['detect-video', join(dir, 'frames')],
    names: /detect-video: expects 2/,
  });
  cases.push({
    group: 'options',
    name: 'detect-video --mixed-sizes foo',
    argv: ['detect-video', join(dir, 'frames'), out('v.mp4'), '--mixed-sizes', 'foo'],
    names: /--mixed-sizes/,
  });
  return cases;
}

/** The bundled cfg with one line replaced (or appended to the section that holds `key`). */
/** A line setting one of the keys a [yolo] section holds ('no yolo layer' drops them with it). */
const YOLO_KEY = new RegExp(
  `^(${[
    'mask',
    'anchors',
    'classes',
    'num',
    'jitter',
    'ignore_thresh',
    'truth_thresh',
    'random',
    'scale_x_y',
    'iou_thresh',
    'cls_normalizer',
    'iou_normalizer',
    'iou_loss',
    'nms_kind',
    'beta_nms',
    'max_delta',
  ].join('|')})\\s*=`,
);

function cfgCases(dir: string, out: (n: string) => string): FuzzCase[] {
  const text = readFileSync(CFG, 'utf8');
  const lines = text.split('\n');
  const firstLine = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
  const variant = (name: string, edit: (ls: string[]) => string[], names: RegExp, weights = WEIGHTS): FuzzCase => {
    const file = join(dir, `cfg-${name.replace(/\W+/g, '_')}.cfg`);
    writeFileSync(file, edit([...lines]).join('\n'));
    return {
      group: 'darknet cfg',
      name,
      argv: ['detect', '--cfg', file, '--weights', weights, DOG, '--out', out('c.jpg')],
      names,
    };
  };
  const replace = (pattern: RegExp, by: string) => (ls: string[]) => {
    const i = ls.findIndex((l) => pattern.test(l));
    ls[i] = by;
    return ls;
  };
  const conv = firstLine(/^\[convolutional\]/);
  /** Sets `key=value` in the first [type] section (replacing its line, or right after the header). */
  const inSection = (type: string, key: string, value: string) => (ls: string[]) => {
    const start = ls.findIndex((l) => l.trim() === `[${type}]`);
    const end = ls.findIndex((l, i) => i > start && l.startsWith('['));
    const at = ls.findIndex((l, i) => i > start && (end < 0 || i < end) && new RegExp(`^${key}\\s*=`).test(l));
    if (at >= 0) ls[at] = `${key}=${value}`;
    else ls.splice(start + 1, 0, `${key}=${value}`);
    return ls;
  };
  const insertAfter = (index: number, line: string) => (ls: string[]) => [
    ...ls.slice(0, index + 1),
    line,
    ...ls.slice(index + 1),
  ];
  const line = (n: number) => new RegExp(`line ${n}\\b`);
  return [
    variant('size 0', replace(/^size=3/, 'size=0'), /size/),
    variant('size -3', replace(/^size=3/, 'size=-3'), /size/),
    variant('stride 0', replace(/^stride=2/, 'stride=0'), /stride/),
    variant('stride abc', replace(/^stride=2/, 'stride=abc'), /stride/),
    variant('filters 0', replace(/^filters=/, 'filters=0'), /filters/),
    variant('filters 1.5', replace(/^filters=/, 'filters=1.5'), /filters/),
    variant('groups 0', replace(/^groups=/, 'groups=0'), /groups/),
    variant('groups that do not divide', replace(/^groups=/, 'groups=7'), /groups/),
    variant('padding -1', insertAfter(conv, 'padding=-1'), /padding/),
    variant('activation unknown', replace(/^activation=leaky/, 'activation=frobnicate'), /activation/),
    variant('unknown section', insertAfter(conv - 1, '[frobnicate]'), /frobnicate/),
    variant('unknown key', insertAfter(conv, 'wibble=3'), /wibble/),
    variant('malformed header', insertAfter(conv - 1, '[convolutional'), /malformed/),
    variant('key before any section', (ls) => ['width=320', ...ls], /before any/),
    variant('no [net]', (ls) => ls.filter((l) => !/^\[net\]/.test(l)), /\[net\]|before any \[section\]/),
    variant('width 33', replace(/^width=/, 'width=33'), /width/),
    variant('width 0', replace(/^width=/, 'width=0'), /width/),
    variant('width huge', replace(/^width=/, 'width=1000000'), /width/),
    variant('channels 1', replace(/^channels=/, 'channels=1'), /channels/),
    variant('route layers empty', replace(/^layers\s*=/, 'layers='), /layers/),
    variant('route layers out of range', replace(/^layers\s*=/, 'layers=-500'), /layers/),
    variant('route layers forward', replace(/^layers\s*=/, 'layers=9999'), /layers/),
    variant('route layers abc', replace(/^layers\s*=/, 'layers=a,b'), /layers/),
    variant('upsample stride 1000', inSection('upsample', 'stride', '1000'), /stride/),
    variant('upsample stride -2', inSection('upsample', 'stride', '-2'), /stride/),
    variant('maxpool size 0', inSection('maxpool', 'size', '0'), /size/),
    variant('maxpool stride 0', inSection('maxpool', 'stride', '0'), /stride/),
    variant('route groups 0', inSection('route', 'groups', '0'), /groups/),
    variant('route group_id out of range', inSection('route', 'group_id', '5'), /group/),
    variant('yolo classes 0', inSection('yolo', 'classes', '0'), /classes/),
    variant('yolo scale_x_y 0', inSection('yolo', 'scale_x_y', '0'), /scale_x_y/),
    variant('shortcut from out of range', replace(/^from\s*=/, 'from=-900'), /from/),
    variant('yolo classes mismatch', replace(/^classes=/, 'classes=81'), /classes/),
    variant('yolo mask out of range', replace(/^mask\s*=/, 'mask=0,1,99'), /mask/),
    variant('yolo anchors odd', replace(/^anchors\s*=/, 'anchors=10,14,23'), /anchors/),
    variant('yolo anchors empty', replace(/^anchors\s*=/, 'anchors='), /anchors/),
    variant(
      'no yolo layer',
      (ls) => ls.map((l) => (/^\[yolo\]/.test(l) ? '[dropout]' : l)).filter((l) => !YOLO_KEY.test(l)),
      /yolo/,
    ),
    variant('empty file', () => [], /\[net\]/),
    variant('weights for another cfg', replace(/^filters=/, 'filters=16'), re(WEIGHTS)),
    {
      ...variant('a line number is named', insertAfter(conv, 'size=x'), line(conv + 2)),
      name: 'cfg error names the line',
    },
  ];
}

function weightsCases(dir: string, out: (n: string) => string): FuzzCase[] {
  const bytes = readFileSync(WEIGHTS);
  const cases: FuzzCase[] = [];
  const write = (name: string, data: Uint8Array, names: RegExp = /\.weights/) => {
    const file = join(dir, `w-${name.replace(/\W+/g, '_')}.weights`);
    writeFileSync(file, data);
    cases.push({
      group: 'darknet weights',
      name,
      argv: ['detect', '--cfg', CFG, '--weights', file, DOG, '--out', out('w.jpg')],
      names,
    });
  };
  const r = rng(11);
  const offsets = [
    0,
    1,
    4,
    8,
    11,
    12,
    15,
    16,
    17,
    19,
    20,
    21,
    24,
    100,
    4096,
    bytes.length >> 2,
    bytes.length >> 1,
    bytes.length - 4,
    bytes.length - 1,
  ];
  for (let i = 0; i < 6; i++) offsets.push(Math.floor(r() * bytes.length));
  for (const at of offsets) write(`truncated at ${at}`, bytes.subarray(0, at));
  write('4 bytes appended', Buffer.concat([bytes, Buffer.alloc(4)]));
  write('1 byte appended', Buffer.concat([bytes, Buffer.alloc(1)]));
  const poke = (name: string, floatIndex: number, value: number, names: RegExp) => {
    const copy = Buffer.from(bytes);
    copy.writeFloatLE(value, 20 + 4 * floatIndex);
    write(name, copy, names);
  };
  // Layer 0 is a conv with batch norm and n filters: biases [0, n), scales, rolling mean, rolling variance, then
  // weights.
  const n = Number(/^filters=(\d+)/m.exec(readFileSync(CFG, 'utf8'))![1]);
  poke('NaN in the first kernel', 4 * n + 5, NaN, /0_conv.*weights\[5\] is NaN/);
  poke('+Inf in a bias', 3, Infinity, /0_conv.*biases\[3\] is Infinity/);
  poke('negative variance', 3 * n + 2, -0.5, /0_conv.*rolling_variance\[2\]/);
  poke('NaN in a scale', n + 1, NaN, /0_conv.*scales\[1\] is NaN/);
  write('a directory', new Uint8Array(0));
  cases.push({
    group: 'darknet weights',
    name: 'weights path is a directory',
    argv: ['detect', '--cfg', CFG, '--weights', dir, DOG, '--out', out('w.jpg')],
    names: /is a directory/,
  });
  cases.push({
    group: 'darknet weights',
    name: 'missing weights file',
    argv: ['detect', '--cfg', CFG, '--weights', join(dir, 'nope.weights'), DOG],
    names: /nope\.weights/,
  });
  return cases;
}

/** A PNG with the given IHDR size and no image data (the size check comes first). */
function pngDeclaring(width: number, height: number): Uint8Array {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8;
  b[25] = 6;
  return b;
}

function imageCases(dir: string, out: (n: string) => string): FuzzCase[] {
  const jpeg = readFileSync(DOG);
  const png = readFileSync('test/fixtures/darknet/dog.stb.png');
  const cases: FuzzCase[] = [];
  const add = (name: string, data: Uint8Array, ext: string, mayPass = false) => {
    const file = join(dir, `img-${name.replace(/\W+/g, '_')}${ext}`);
    writeFileSync(file, data);
    cases.push({ group: 'images', name, argv: ['detect', file, '--out', out('i.jpg')], names: re(file), mayPass });
  };
  for (const at of [0, 1, 2, 3, 4, 10, 20, 100, 600, 5000, jpeg.length >> 1, jpeg.length - 2])
    add(`jpeg truncated at ${at}`, jpeg.subarray(0, at), '.jpg');
  for (const at of [0, 7, 8, 16, 23, 24, 40, 1000, png.length >> 1, png.length - 12])
    add(`png truncated at ${at}`, png.subarray(0, at), '.png');
  const r = rng(5);
  for (let i = 0; i < 8; i++) {
    const copy = Buffer.from(jpeg);
    const at = 2 + Math.floor(r() * (jpeg.length - 2));
    copy[at] ^= 1 << Math.floor(r() * 8);
    add(`jpeg bit flip at ${at}`, copy, '.jpg', true);
  }
  for (let i = 0; i < 6; i++) {
    const copy = Buffer.from(png);
    const at = 8 + Math.floor(r() * (png.length - 8));
    copy[at] ^= 0xff;
    add(`png byte flip at ${at}`, copy, '.png', true);
  }
  add('20000×20000 PNG', pngDeclaring(20000, 20000), '.png');
  add('0×0 PNG', pngDeclaring(0, 0), '.png');
  const huge = Buffer.from(jpeg);
  const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
  huge.writeUInt16BE(65000, sof + 5);
  huge.writeUInt16BE(65000, sof + 7);
  add('65000×65000 JPEG', huge, '.jpg');
  add('text named .jpg', Buffer.from('not an image\n'), '.jpg');
  add('empty file', new Uint8Array(0), '.jpg');
  cases.push({
    group: 'images',
    name: 'image is a directory',
    argv: ['detect', dir, '--out', out('i.jpg')],
    names: /is a directory/,
  });
  cases.push({
    group: 'images',
    name: 'missing image',
    argv: ['detect', join(dir, 'missing.jpg')],
    names: /missing\.jpg/,
  });
  return cases;
}

function npyCases(dir: string): FuzzCase[] {
  const good = formatNpy(randomArray(2 * 72, 5), [2, 6, 6, 2]);
  writeFileSync(join(dir, 'x.npy'), good);
  const model = join(dir, 'small.h5');
  const cases: FuzzCase[] = [];
  const add = (name: string, data: Uint8Array) => {
    const file = join(dir, `npy-${name.replace(/\W+/g, '_')}.npy`);
    writeFileSync(file, data);
    cases.push({ group: 'npy', name, argv: ['predict', '--model', model, file], names: re(file) });
  };
  const header = (text: string, major = 1) => {
    const h = Buffer.from(text);
    const b = Buffer.alloc(10 + h.length);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(b);
    b.writeUInt16LE(h.length, 8);
    h.copy(b, 10);
    return b;
  };
  for (const at of [0, 3, 6, 9, 10, 40, good.length - 4]) add(`truncated at ${at}`, good.subarray(0, at));
  const badLength = Buffer.from(good);
  badLength.writeUInt16LE(0xffff, 8);
  add('header length beyond the file', badLength);
  add('bad magic', Buffer.from('NUMPY....'));
  add('version 9', header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 9));
  add(
    'shape garbage',
    Buffer.concat([header("{'descr': '<f4', 'fortran_order': False, 'shape': (abc, 3), }"), Buffer.alloc(24)]),
  );
  add(
    'negative shape',
    Buffer.concat([header("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"), Buffer.alloc(12)]),
  );
  add('huge shape', header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"));
  add('int64', Buffer.concat([header("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"), Buffer.alloc(16)]));
  add(
    'fortran order',
    Buffer.concat([header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), Buffer.alloc(16)]),
  );
  add('no descr', Buffer.concat([header("{'fortran_order': False, 'shape': (2,), }"), Buffer.alloc(8)]));
  add('wrong shape for the model', formatNpy(new Float32Array(10), [10]));
  return cases;
}

const SMALL_MODEL = () => ({
  class_name: 'Sequential',
  config: {
    name: 'small',
    layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 6, 2], name: 'in' } },
      {
        class_name: 'Conv2D',
        config: {
          name: 'conv',
          filters: 4,
          kernel_size: [3, 3],
          strides: [1, 1],
          dilation_rate: [1, 1],
          padding: 'valid',
          activation: 'relu',
        },
      },
      { class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [2, 2], strides: [2, 2], padding: 'valid' } },
      { class_name: 'Flatten', config: { name: 'flat' } },
      { class_name: 'Dense', config: { name: 'out', units: 3, activation: 'softmax' } },
    ],
  },
});
const SMALL_WEIGHTS = () =>
  new Map([
    [
      'conv',
      [
        { name: 'kernel:0', shape: [3, 3, 2, 4], data: randomArray(72, 1) },
        { name: 'bias:0', shape: [4], data: randomArray(4, 2) },
      ],
    ],
    [
      'out',
      [
        { name: 'kernel:0', shape: [16, 3], data: randomArray(48, 3) },
        { name: 'bias:0', shape: [3], data: randomArray(3, 4) },
      ],
    ],
  ]);

async function kerasCases(dir: string): Promise<FuzzCase[]> {
  const model = join(dir, 'small.h5');
  const opts = { strings: 'fixed', weightNames: 'prefixed', kerasVersion: '2.4.0' } as const;
  const layerNames = ['in', 'conv', 'pool', 'flat', 'out'];
  await writeFullModelH5(model, SMALL_MODEL(), layerNames, SMALL_WEIGHTS(), opts);
  const cases: FuzzCase[] = [];
  const predict = (file: string) => ['predict', '--model', file, join(dir, 'x.npy')];
  // The whole file: truncations and flips.
  const bytes = readFileSync(model);
  const r = rng(9);
  const truncations = [
    0,
    1,
    8,
    100,
    512,
    2048,
    bytes.length >> 2,
    bytes.length >> 1,
    bytes.length - 100,
    bytes.length - 1,
  ];
  for (const at of truncations) {
    const file = join(dir, `h5-truncated-${at}.h5`);
    writeFileSync(file, bytes.subarray(0, at));
    cases.push({ group: 'keras files', name: `h5 truncated at ${at}`, argv: predict(file), names: re(file) });
  }
  for (let i = 0; i < 10; i++) {
    const copy = Buffer.from(bytes);
    const at = Math.floor(r() * Math.min(bytes.length, 4096));
    copy[at] ^= 0xff;
    const file = join(dir, `h5-flip-${at}.h5`);
    writeFileSync(file, copy);
    cases.push({
      group: 'keras files',
      name: `h5 byte flip at ${at}`,
      argv: predict(file),
      names: re(file),
      mayPass: true,
    });
  }
  // Config mutations, each written as a model.save() file.
  const mutate = async (
    name: string,
    edit: (m: ReturnType<typeof SMALL_MODEL>) => unknown,
    names: RegExp,
    weights = SMALL_WEIGHTS(),
  ) => {
    const file = join(dir, `cfg-${name.replace(/\W+/g, '_')}.h5`);
    const m = SMALL_MODEL();
    const edited = edit(m);
    await writeFullModelH5(file, edited === undefined ? m : edited, layerNames, weights, opts);
    cases.push({ group: 'keras configs', name, argv: predict(file), names });
  };
  const layer = (m: ReturnType<typeof SMALL_MODEL>, name: string) =>
    m.config.layers.find((l) => l.config.name === name)!.config as Record<string, unknown>;
  await mutate('strides 0', (m) => void (layer(m, 'conv').strides = [0, 0]), /layer 'conv'.*strides/);
  await mutate('dilation 0', (m) => void (layer(m, 'conv').dilation_rate = 0), /layer 'conv'.*dilation_rate/);
  await mutate('pool size 0', (m) => void (layer(m, 'pool').pool_size = [0, 2]), /layer 'pool'.*pool_size/);
  await mutate('kernel_size abc', (m) => void (layer(m, 'conv').kernel_size = 'abc'), /layer 'conv'.*kernel_size/);
  await mutate('filters 0', (m) => void (layer(m, 'conv').filters = 0), /layer 'conv'.*filters/);
  await mutate('filters string', (m) => void (layer(m, 'conv').filters = '4'), /layer 'conv'.*filters/);
  await mutate('units -1', (m) => void (layer(m, 'out').units = -1), /layer 'out'.*units/);
  await mutate('padding reflect', (m) => void (layer(m, 'conv').padding = 'reflect'), /layer 'conv'.*padding/);
  await mutate('activation unknown', (m) => void (layer(m, 'conv').activation = 'frob'), /layer 'conv'.*activation/);
  await mutate('use_bias string', (m) => void (layer(m, 'conv').use_bias = 'yes'), /layer 'conv'.*use_bias/);
  await mutate(
    'batch_shape abc',
    (m) => void (layer(m, 'in').batch_input_shape = 'abc'),
    /layer 'in'.*batch_input_shape/,
  );
  await mutate(
    'batch_shape negative',
    (m) => void (layer(m, 'in').batch_input_shape = [null, -6, 6, 2]),
    /layer 'in'.*batch_input_shape/,
  );
  await mutate(
    'input shape unknown',
    (m) => void (layer(m, 'in').batch_input_shape = [null, null, 6, 2]),
    /layer 'in'.*not fully known/,
  );
  await mutate(
    'layer config null',
    (m) => void ((m.config.layers[1] as { config: unknown }).config = null),
    /conv|layer 1/,
  );
  await mutate(
    'layer without config',
    (m) => void delete (m.config.layers[1] as { config?: unknown }).config,
    /layer 1|config/,
  );
  await mutate(
    'class_name missing',
    (m) => void delete (m.config.layers[1] as { class_name?: unknown }).class_name,
    /layer 'conv'.*class_name/,
  );
  await mutate(
    'class_name number',
    (m) => void ((m.config.layers[1] as { class_name: unknown }).class_name = 7),
    /layer 'conv'.*class_name/,
  );
  await mutate(
    'layers not a list',
    (m) => void ((m.config as { layers: unknown }).layers = 'x'),
    /layers is not a list/,
  );
  await mutate('model config null', () => null, /not a JSON object|model class/);
  await mutate('model class unknown', (m) => ({ ...m, class_name: 'Frob' }), /model class/);
  await mutate(
    'unsupported layer',
    (m) => void ((m.config.layers[2] as { class_name: string }).class_name = 'Frobnicate'),
    /layer 'pool'.*Frobnicate/,
  );
  await mutate(
    'Lambda layer',
    (m) => void ((m.config.layers[2] as { class_name: string }).class_name = 'Lambda'),
    /layer 'pool'.*Lambda/,
  );
  await mutate('duplicate names', (m) => void (layer(m, 'pool').name = 'conv'), /two layers are named 'conv'/);
  await mutate(
    'reshape target bad',
    (m) =>
      void m.config.layers.splice(3, 1, {
        class_name: 'Reshape',
        config: { name: 'flat', target_shape: [0, -1] } as never,
      }),
    /layer 'flat'.*target_shape/,
  );
  await mutate(
    'dense kernel of the wrong size',
    () => undefined,
    /layer 'out'/,
    new Map([
      ...SMALL_WEIGHTS(),
      [
        'out',
        [
          { name: 'kernel:0', shape: [20, 3], data: randomArray(60, 3) },
          { name: 'bias:0', shape: [3], data: randomArray(3, 4) },
        ],
      ],
    ]),
  );
  await mutate(
    'missing weights',
    () => undefined,
    /layer 'conv'/,
    new Map([...SMALL_WEIGHTS()].filter(([k]) => k !== 'conv')),
  );
  await mutate(
    'NaN weights',
    () => undefined,
    /layer 'conv'.*kernel\[7\] is NaN/,
    new Map([
      ...SMALL_WEIGHTS(),
      [
        'conv',
        [
          {
            name: 'kernel:0',
            shape: [3, 3, 2, 4],
            data: Float32Array.from(randomArray(72, 1), (v, i) => (i === 7 ? NaN : v)),
          },
          { name: 'bias:0', shape: [4], data: randomArray(4, 2) },
        ],
      ],
    ]),
  );
  // Built as text: JSON.stringify itself overflows the stack at this depth (JSON.parse does not).
  let nested = JSON.stringify({
    class_name: 'Sequential',
    config: { name: 'm0', layers: SMALL_MODEL().config.layers },
  });
  for (let i = 1; i < 3000; i++)
    nested = `{"class_name": "Sequential", "config": {"name": "m${i}", "layers": [${nested}]}}`;
  await mutate('3000 nested models', () => nested, /nested more than/);
  // .keras archives.
  cases.push(...(await dotKerasCases(dir, predict)));
  return cases;
}

async function dotKerasCases(dir: string, predict: (f: string) => string[]): Promise<FuzzCase[]> {
  const { default: JSZip } = await import('jszip');
  const config = JSON.stringify({
    class_name: 'Sequential',
    config: { name: 'small', layers: SMALL_MODEL().config.layers },
  });
  const zipOf = async (entries: Record<string, string | Uint8Array>, compression: 'STORE' | 'DEFLATE' = 'STORE') => {
    const zip = new JSZip();
    for (const [k, v] of Object.entries(entries)) zip.file(k, v);
    return Buffer.from(await zip.generateAsync({ type: 'uint8array', compression }));
  };
  const weights = new Uint8Array(readFileSync(join(dir, 'small.h5'))); // any HDF5 bytes: the archive fails first
  const good = await zipOf({
    'metadata.json': '{"keras_version": "3.5.0"}',
    'config.json': config,
    'model.weights.h5': weights,
  });
  const cases: FuzzCase[] = [];
  const add = (name: string, data: Uint8Array) => {
    const file = join(dir, `zip-${name.replace(/\W+/g, '_')}.keras`);
    writeFileSync(file, data);
    cases.push({ group: 'keras archives', name, argv: predict(file), names: re(file) });
  };
  for (const at of [4, 30, 100, good.length >> 1, good.length - 30, good.length - 1])
    add(`truncated at ${at}`, good.subarray(0, at));
  const crc = Buffer.from(good);
  crc[crc.indexOf(Buffer.from('"small"')) + 2] ^= 1;
  add('config bytes changed (CRC)', crc);
  add('no config.json', await zipOf({ 'model.weights.h5': weights }));
  add('no weights', await zipOf({ 'config.json': config }));
  add('config not JSON', await zipOf({ 'config.json': '{not json', 'model.weights.h5': weights }));
  add('config null', await zipOf({ 'config.json': 'null', 'model.weights.h5': weights }));
  // A config.json declaring 3 GB in the central directory: refused before anything is inflated.
  const bomb = await zipOf({ 'config.json': config, 'model.weights.h5': weights }, 'DEFLATE');
  const dirAt = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bomb.writeUInt32LE(3_000_000_000, dirAt + 24);
  add('config declaring 3 GB', bomb);
  return cases;
}

function outputCases(dir: string): FuzzCase[] {
  const model = join(dir, 'small.h5');
  return [
    {
      group: 'outputs',
      name: 'detect --out in a missing directory',
      argv: ['detect', DOG, '--out', join(dir, 'nope', 'x.jpg')],
      names: /nope/,
    },
    {
      group: 'outputs',
      name: 'detect --out .webp',
      argv: ['detect', DOG, '--out', join(dir, 'x.webp')],
      names: /x\.webp/,
    },
    {
      group: 'outputs',
      name: 'detect --out no extension, one input',
      argv: ['detect', DOG, '--out', join(dir, 'noext')],
      names: /noext/,
    },
    {
      group: 'outputs',
      name: 'detect several inputs --out file.jpg',
      argv: ['detect', DOG, DOG, '--out', join(dir, 'two.jpg')],
      names: /--out/,
    },
    {
      group: 'outputs',
      name: 'predict --out .txt',
      argv: ['predict', '--model', model, join(dir, 'x.npy'), '--out', join(dir, 'y.txt')],
      names: /--out/,
    },
    {
      group: 'outputs',
      name: 'predict --out in a missing directory',
      argv: ['predict', '--model', model, join(dir, 'x.npy'), '--out', join(dir, 'nope', 'y.npy')],
      names: /nope/,
    },
  ];
}

function videoCases(dir: string): FuzzCase[] {
  const video = join(dir, 'clip.mp4');
  const made = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=64x48:rate=5',
    '-t',
    '1',
    '-pix_fmt',
    'yuv420p',
    video,
  ]);
  if (made.status !== 0) return [];
  const bytes = readFileSync(video);
  const cases: FuzzCase[] = [];
  const add = (name: string, data: Uint8Array, mayPass = false) => {
    const file = join(dir, `vid-${name.replace(/\W+/g, '_')}.mp4`);
    writeFileSync(file, data);
    cases.push({
      group: 'videos',
      name,
      argv: ['detect-video', file, join(dir, 'out', 'v.mp4'), '--size', '160'],
      names: re(file),
      mayPass,
    });
  };
  add('truncated at half', bytes.subarray(0, bytes.length >> 1));
  add('not a video', Buffer.from('hello'));
  const flipped = Buffer.from(bytes);
  for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 64; i++) flipped[i] ^= 0x55;
  // H.264 has no checksums: ffmpeg conceals some damage without a word (src/tools/video.ts measured 28 of 60).
  add('flipped bytes in the middle', flipped, true);
  cases.push({
    group: 'videos',
    name: 'output in a missing directory',
    argv: ['detect-video', video, join(dir, 'nope', 'v.mp4')],
    names: /nope/,
  });
  cases.push({
    group: 'videos',
    name: 'output with an unknown extension',
    argv: ['detect-video', video, join(dir, 'out', 'v.xyz')],
    names: /v\.xyz/,
  });
  cases.push({
    group: 'videos',
    name: 'output without an extension',
    argv: ['detect-video', video, join(dir, 'out', 'vnoext')],
    names: /vnoext/,
  });
  return cases;
}
