// The Keras CLI commands, run as a user runs them (node dist/cli.js …), with exit codes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatNpy, parseNpy } from '../src/io/npy.js';
import { randomArray } from './harness.js';
import { writeFullModelH5 } from './keras-writer.js';
import { refConv2d, refGemm, refSoftmax } from './reference.js';

const test = suite('cli');
const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const MNIST = 'test/fixtures/keras';

test('inspect prints the layers, shapes and parameter counts of model.summary()', () => {
  const r = cli('inspect', `${MNIST}/naonaorange_cnn_mnist_keras2.4.0.h5`);
  assert.is(r.code, 0, r.err);
  // Parameter counts from the layer shapes: 3·3·1·32+32, 3·3·32·64+64, 3·3·64·64+64, 576·64+64, 64·10+10.
  for (const line of [
    /conv2d \(Conv2D\)\s+\(None, 26, 26, 32\)\s+320/,
    /conv2d_1 \(Conv2D\)\s+\(None, 11, 11, 64\)\s+18,496/,
    /flatten \(Flatten\)\s+\(None, 576\)\s+0/,
    /softmax \(Dense\)\s+\(None, 10\)\s+650/,
    /Total params: 93,322/,
  ]) {
    assert.match(r.out, line);
  }
});

test('predict runs a .keras model on a PNG and writes the output as .npy', () => {
  const out = join(dir, 'y.npy');
  const r = cli(
    'predict',
    '--model',
    `${MNIST}/moonflower_mnist_cnn_keras3.1.1.keras`,
    `${MNIST}/moonflower_8.png`,
    '--preprocess',
    'unit',
    '--out',
    out,
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /output: \[1, 10\]/);
  const y = parseNpy(readFileSync(out));
  assert.equal(y.shape, [1, 10]);
  assert.ok(Math.abs(y.data[8] - 0.999988) < 1e-4, `P(8) = ${y.data[8]}`); // formats.md §5.2
});

test('validate passes against reference outputs and per-layer references, and fails over the tolerance', async () => {
  // A two-layer model with references computed here in float64.
  const kernel = randomArray(3 * 3 * 2 * 4, 1),
    bias = randomArray(4, 2),
    dk = randomArray(4 * 4 * 4 * 3, 3),
    db = randomArray(3, 4);
  const config = {
    class_name: 'Sequential',
    config: {
      name: 'small',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 6, 2], name: 'in' } },
        {
          class_name: 'Conv2D',
          config: { name: 'conv', filters: 4, kernel_size: [3, 3], padding: 'valid', activation: 'relu' },
        },
        { class_name: 'Flatten', config: { name: 'flat' } },
        { class_name: 'Dense', config: { name: 'out', units: 3, activation: 'softmax' } },
      ],
    },
  };
  const model = join(dir, 'small.h5');
  const weights = new Map([
    [
      'conv',
      [
        { name: 'kernel:0', shape: [3, 3, 2, 4], data: kernel },
        { name: 'bias:0', shape: [4], data: bias },
      ],
    ],
    [
      'out',
      [
        { name: 'kernel:0', shape: [64, 3], data: dk },
        { name: 'bias:0', shape: [3], data: db },
      ],
    ],
  ]);
  await writeFullModelH5(model, config, ['in', 'conv', 'flat', 'out'], weights, {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
  });
  const x = randomArray(2 * 72, 5);
  const conv = refConv2d({
    x,
    xShape: [2, 6, 6, 2],
    w: kernel,
    wShape: [3, 3, 2, 4],
    b: bias,
    act: (v) => Math.max(v, 0),
  });
  const y = refSoftmax(refGemm(conv.y, dk, 2, 64, 3, false, db), 3);
  const refs = join(dir, 'refs');
  mkdirSync(refs, { recursive: true });
  writeFileSync(join(dir, 'x.npy'), formatNpy(x, [2, 6, 6, 2]));
  writeFileSync(join(dir, 'y.npy'), formatNpy(Float32Array.from(y), [2, 3]));
  writeFileSync(join(refs, 'conv.npy'), formatNpy(Float32Array.from(conv.y), conv.shape));
  const ok = cli(
    'validate',
    '--model',
    model,
    '--input',
    join(dir, 'x.npy'),
    '--expected',
    join(dir, 'y.npy'),
    '--layers',
    refs,
  );
  assert.is(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /conv\s+\S+\s+\S+\s+ok/);
  assert.match(ok.out, /all 2 within tolerance/);

  const wrong = Float32Array.from(y);
  wrong[4] += 0.01;
  writeFileSync(join(dir, 'y_wrong.npy'), formatNpy(wrong, [2, 3]));
  const bad = cli('validate', '--model', model, '--input', join(dir, 'x.npy'), '--expected', join(dir, 'y_wrong.npy'));
  assert.is(bad.code, 1);
  assert.match(bad.out, /output out\s+1\.000e-2\s+\S+\s+FAIL/);
  // --f16 reports what f16 weights cost: a visible error, within f16's rounding; or, without
  // shader-f16, a clear refusal.
  const half = cli(
    'validate',
    '--model',
    model,
    '--input',
    join(dir, 'x.npy'),
    '--expected',
    join(dir, 'y.npy'),
    '--layers',
    refs,
    '--f16',
    '--tol',
    '5e-3',
  );
  if (/shader-f16/.test(cli('info').out)) {
    assert.is(half.code, 0, half.out + half.err);
    const rel = Number(/^conv\s+\S+\s+(\S+)\s+ok/m.exec(half.out)?.[1]);
    assert.ok(rel > 1e-6 && rel < 5e-3, `conv with f16 weights: max rel err ${rel}`);
  } else {
    assert.is(half.code, 3); // a device that lacks a feature
    assert.match(half.err, /shader-f16/);
  }
});

test('errors reach the user as one clear line and exit 2 (bad input)', () => {
  const r = cli('predict', '--model', join(dir, 'nope.h5'), 'x.png');
  assert.is(r.code, 2);
  assert.match(r.err, /webgpu-cnn: .*nope\.h5: no such file/);
  const img = cli('predict', '--model', `${MNIST}/moonflower_mnist_cnn_keras3.1.1.keras`, 'package.json');
  assert.is(img.code, 2);
  assert.match(img.err, /package\.json: is not a PNG or JPEG image/);
});

test.run();
