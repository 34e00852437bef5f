// Every case of keras-js's layer tests (outputs computed by real Keras 2.x; configurations from
// test/fixtures/keras-js/CASES.md), run through the kernels and compared to 1e-5.
import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import type { GpuContext } from '../src/gpu/context.js';
import type { Activation } from '../src/ops/activation.js';
import type { Tensor } from '../src/tensor.js';
import { fixtureText, kerasJsCases, loadKerasJs } from './fixtures.js';
import { assertClose, take, upload, withGpu } from './harness.js';

interface Arr {
  data: number[];
  shape: number[];
}
interface Case {
  input: Arr;
  weights?: Arr[];
  expected: Arr;
}

const DIR = 'test/fixtures/keras-js';
await loadKerasJs();
const load = (f: string) => kerasJsCases<Case>(f);

const test = suite('keras-js layer tests (real Keras outputs)');
const gpu = withGpu(test);
const TOL = 1e-5;

/** Runs `body` on the case's input (batch 1 prepended) and compares with the expected output. */
function kerasCase(
  key: string,
  c: Case,
  body: (ctx: GpuContext, x: Tensor, w: Float32Array[], c: Case) => Promise<Tensor>,
  inputShape = c.input.shape,
  inputData = c.input.data,
) {
  test(key, async () => {
    const ctx = await gpu();
    const x = upload(ctx, inputData, [1, ...inputShape]);
    const w = (c.weights ?? []).map((a) => Float32Array.from(a.data));
    const y = await body(ctx, x, w, c);
    const got = await take(y);
    if (y.shape.slice(1).join() !== c.expected.shape.join()) {
      throw new Error(`${key}: output shape [${y.shape.slice(1)}] != Keras [${c.expected.shape}]`);
    }
    assertClose(got, c.expected.data, TOL, key);
  });
}

const KERAS2_ACT: Record<string, Activation> = {
  linear: { kind: 'linear' },
  relu: { kind: 'relu' },
  sigmoid: { kind: 'sigmoid' },
  tanh: { kind: 'tanh' },
  elu: { kind: 'elu', alpha: 1 },
  selu: { kind: 'selu' },
  softplus: { kind: 'softplus' },
  softsign: { kind: 'softsign' },
  hard_sigmoid: { kind: 'hard_sigmoid', slope: 0.2, offset: 0.5 },
};

async function applyActivation(x: Tensor, name: string): Promise<Tensor> {
  return name === 'softmax' ? ops.softmax(x) : ops.activation(x, KERAS2_ACT[name]);
}

async function dense(
  ctx: GpuContext,
  x: Tensor,
  kernel: Float32Array,
  bias: Float32Array | undefined,
  act?: Activation,
): Promise<Tensor> {
  const [k, n] = [x.shape[x.shape.length - 1], kernel.length / x.shape[x.shape.length - 1]];
  const w = ops.GemmWeight.upload(ctx, kernel, k, n);
  const y = await ops.gemm(x, w, bias ? upload(ctx, bias, [n]) : null, act);
  w.dispose();
  return y;
}

// --- activations.json: Keras activation functions on 1-3D inputs ---
for (const [key, c] of Object.entries(load('activations.json'))) {
  const name = key.split('.')[1];
  const variant: Record<string, Activation> = {
    'activations.elu.3': { kind: 'elu', alpha: 0.5 },
    'activations.relu.3': { kind: 'relu', maxValue: 0.5 },
    'activations.relu.4': { kind: 'relu', negativeSlope: 0.3 },
  };
  kerasCase(key, c, (_, x) => (variant[key] ? ops.activation(x, variant[key]) : applyActivation(x, name)));
}

// --- advanced activations ---
const advanced = load('layers/advanced_activations.json');
kerasCase('advanced_activations.LeakyReLU.0', advanced['advanced_activations.LeakyReLU.0'], (_, x) =>
  ops.activation(x, { kind: 'leaky', alpha: 0.4 }),
);
kerasCase('advanced_activations.ELU.0', advanced['advanced_activations.ELU.0'], (_, x) =>
  ops.activation(x, { kind: 'elu', alpha: 1.1 }),
);
kerasCase('advanced_activations.ThresholdedReLU.0', advanced['advanced_activations.ThresholdedReLU.0'], (_, x) =>
  ops.activation(x, { kind: 'thresholded_relu', theta: 0.9 }),
);
kerasCase('advanced_activations.PReLU.0', advanced['advanced_activations.PReLU.0'], (ctx, x, [alpha], c) =>
  ops.binary('prelu', x, upload(ctx, alpha, c.weights![0].shape)),
);

// --- Conv2D ---
type Pad = 'valid' | 'same';
const CONV: Record<string, [[number, number], Pad, [number, number], string]> = {
  0: [[1, 1], 'valid', [1, 1], 'linear'],
  1: [[1, 1], 'valid', [1, 1], 'linear'],
  2: [[2, 2], 'valid', [1, 1], 'relu'],
  3: [[2, 1], 'valid', [1, 1], 'relu'],
  4: [[1, 1], 'same', [1, 1], 'relu'],
  5: [[2, 2], 'same', [1, 1], 'relu'],
  6: [[3, 2], 'same', [1, 1], 'relu'],
  7: [[1, 1], 'valid', [2, 2], 'linear'],
  8: [[1, 1], 'valid', [2, 2], 'linear'],
  9: [[1, 1], 'valid', [3, 3], 'relu'],
  10: [[1, 1], 'same', [2, 2], 'relu'],
  11: [[1, 1], 'same', [4, 4], 'relu'],
};
for (const [key, c] of Object.entries(load('layers/convolutional/Conv2D.json'))) {
  const [strides, padding, dilations, act] = CONV[key.split('.').pop()!];
  kerasCase(key, c, (ctx, x, [w, b]) =>
    ops.conv2d(x, upload(ctx, w, c.weights![0].shape), b ? upload(ctx, b, [b.length]) : null, {
      strides,
      padding,
      dilations,
      activation: KERAS2_ACT[act],
    }),
  );
}

// --- SeparableConv2D: depthwise (groups = channels, depth multiplier) then pointwise 1×1 with bias ---
const SEP: Record<string, [[number, number], Pad, string]> = {
  0: [[1, 1], 'valid', 'linear'],
  1: [[1, 1], 'valid', 'relu'],
  2: [[1, 1], 'valid', 'relu'],
  3: [[2, 2], 'valid', 'relu'],
  4: [[1, 1], 'same', 'relu'],
  5: [[1, 1], 'same', 'relu'],
  6: [[2, 2], 'same', 'relu'],
};
for (const [key, c] of Object.entries(load('layers/convolutional/SeparableConv2D.json'))) {
  const [strides, padding, act] = SEP[key.split('.').pop()!];
  kerasCase(key, c, async (ctx, x, [dw, pw, b]) => {
    const [kh, kw, ch, mult] = c.weights![0].shape;
    const depth = await ops.conv2d(x, upload(ctx, dw, [kh, kw, 1, ch * mult]), null, { strides, padding, groups: ch });
    const [, , cin, filters] = c.weights![1].shape;
    const y = await ops.conv2d(depth, upload(ctx, pw, [1, 1, cin, filters]), b ? upload(ctx, b, [filters]) : null, {
      activation: KERAS2_ACT[act],
    });
    depth.dispose();
    return y;
  });
}

// --- channels_first cases run NHWC kernels between two transposes, as the loader does ---
async function channelsFirst(x: Tensor, body: (nhwc: Tensor) => Promise<Tensor>): Promise<Tensor> {
  const nhwc = await ops.transpose(x, [0, 2, 3, 1]);
  const y = await body(nhwc);
  const out = y.shape.length === 4 ? await ops.transpose(y, [0, 3, 1, 2]) : y;
  nhwc.dispose();
  if (out !== y) y.dispose();
  return out;
}
const isChannelsFirst = (key: string, table: string) =>
  new RegExp(`\\| ${key.replace(/\./g, '\\.')} \\|[^\\n]*channels_first`).test(table);
const CASES_MD = await fixtureText(`${DIR}/CASES.md`);

const ZERO_PAD: Record<string, [number, number, number, number]> = {
  0: [1, 1, 1, 1],
  1: [1, 1, 1, 1],
  2: [3, 3, 2, 2],
  3: [3, 3, 2, 2],
  4: [1, 2, 3, 4],
  5: [2, 2, 2, 2],
};
for (const [key, c] of Object.entries(load('layers/convolutional/ZeroPadding2D.json'))) {
  const pads = ZERO_PAD[key.split('.').pop()!];
  kerasCase(key, c, (_, x) =>
    isChannelsFirst(key, CASES_MD) ? channelsFirst(x, (t) => ops.pad(t, pads)) : ops.pad(x, pads),
  );
}

const UPSAMPLE: Record<string, [number, number]> = { 0: [2, 2], 1: [2, 2], 2: [3, 2], 3: [1, 3], 4: [2, 2] };
for (const [key, c] of Object.entries(load('layers/convolutional/UpSampling2D.json'))) {
  const f = UPSAMPLE[key.split('.').pop()!];
  kerasCase(key, c, (_, x) =>
    isChannelsFirst(key, CASES_MD) ? channelsFirst(x, (t) => ops.upsample(t, f)) : ops.upsample(x, f),
  );
}

// --- pooling ---
const POOL: Record<string, [[number, number], [number, number] | null, Pad]> = {
  0: [[2, 2], null, 'valid'],
  1: [[2, 2], [1, 1], 'valid'],
  2: [[2, 2], [2, 1], 'valid'],
  3: [[3, 3], null, 'valid'],
  4: [[3, 3], [3, 3], 'valid'],
  5: [[2, 2], null, 'same'],
  6: [[2, 2], [1, 1], 'same'],
  7: [[2, 2], [2, 1], 'same'],
  8: [[3, 3], null, 'same'],
  9: [[3, 3], [3, 3], 'same'],
  10: [[3, 3], [2, 2], 'valid'],
  11: [[3, 3], [1, 1], 'same'],
  12: [[2, 2], null, 'valid'],
};
for (const [file, kind] of [
  ['MaxPooling2D', 'max'],
  ['AveragePooling2D', 'avg'],
] as const) {
  for (const [key, c] of Object.entries(load(`layers/pooling/${file}.json`))) {
    const [size, strides, padding] = POOL[key.split('.').pop()!];
    const run = (t: Tensor) => ops.pool2d(t, { kind, size, strides: strides ?? size, padding });
    kerasCase(key, c, (_, x) => (isChannelsFirst(key, CASES_MD) ? channelsFirst(x, run) : run(x)));
  }
}
for (const [file, kind] of [
  ['GlobalMaxPooling2D', 'max'],
  ['GlobalAveragePooling2D', 'avg'],
] as const) {
  for (const [key, c] of Object.entries(load(`layers/pooling/${file}.json`))) {
    kerasCase(key, c, (_, x) =>
      isChannelsFirst(key, CASES_MD) ? channelsFirst(x, (t) => ops.globalPool(t, kind)) : ops.globalPool(x, kind),
    );
  }
}

// --- BatchNormalization: weights are [gamma if scale][beta if center] mean, variance ---
const BN: Record<string, [number, number, boolean, boolean]> = {
  0: [1e-5, -1, true, true],
  1: [1e-2, -1, true, true],
  2: [1e-5, 1, true, true],
  3: [1e-5, 2, true, true],
  4: [1e-5, 3, true, false],
  5: [1e-5, -1, false, true],
  6: [1e-3, -1, false, false],
};
for (const [key, c] of Object.entries(load('layers/normalization/BatchNormalization.json'))) {
  const [epsilon, axis, center, scale] = BN[key.split('.').pop()!];
  kerasCase(key, c, (_, x, w) => {
    const q = [...w];
    const gamma = scale ? q.shift() : undefined;
    const beta = center ? q.shift() : undefined;
    return ops.batchNorm(x, { gamma, beta, mean: q[0], variance: q[1], epsilon }, axis);
  });
}

// --- core: Dense, Activation (Dense then activation), Flatten ---
const DENSE_ACT = ['linear', 'sigmoid', 'softplus', 'linear', 'sigmoid', 'softplus'];
for (const [key, c] of Object.entries(load('layers/core/Dense.json'))) {
  kerasCase(key, c, (ctx, x, [k, b]) => dense(ctx, x, k, b, KERAS2_ACT[DENSE_ACT[Number(key.split('.').pop())]]));
}
const ACTIVATION_LAYER = [
  'softmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'relu',
  'tanh',
  'sigmoid',
  'hard_sigmoid',
  'linear',
];
for (const [key, c] of Object.entries(load('layers/core/Activation.json'))) {
  kerasCase(key, c, async (ctx, x, [k, b]) => {
    const h = await dense(ctx, x, k, b);
    const y = await applyActivation(h, ACTIVATION_LAYER[Number(key.split('.').pop())]);
    h.dispose();
    return y;
  });
}
for (const [key, c] of Object.entries(load('layers/core/Flatten.json'))) {
  kerasCase(key, c, async (_, x) => ops.flatten(await ops.activation(x, { kind: 'linear' })));
}

// --- merge: branches are Dense layers on the shared input, then Add / Concatenate ---
for (const [key, c] of Object.entries(load('layers/merge/Add.json'))) {
  kerasCase(key, c, async (ctx, x, w) => {
    let sum = await dense(ctx, x, w[0], w[1]);
    for (let i = 2; i < w.length; i += 2) {
      const branch = await dense(ctx, x, w[i], w[i + 1]);
      const next = await ops.add(sum, branch);
      sum.dispose();
      branch.dispose();
      sum = next;
    }
    return sum;
  });
}
// The 2-D cases feed a [3, 6] input whose JSON keeps only one row: its rows were identical (every
// expected row repeats), so the row is tiled back. Axis 1/2 count the batch axis, as in Keras.
const CONCAT_AXIS = [-1, -1, -2, 1, 2, -1, -1];
for (const [key, c] of Object.entries(load('layers/merge/Concatenate.json'))) {
  const i = Number(key.split('.').pop());
  const rows = c.expected.shape.length === 2 ? 3 : 0;
  const shape = rows ? [rows, 6] : [6];
  const data = rows ? Array.from({ length: rows }, () => c.input.data).flat() : c.input.data;
  kerasCase(
    key,
    c,
    async (ctx, x, w) => {
      const branches: Tensor[] = [];
      for (let j = 0; j < w.length; j += 2) branches.push(await dense(ctx, x, w[j], w[j + 1]));
      const y = await ops.concat(branches, CONCAT_AXIS[i]);
      branches.forEach((b) => b.dispose());
      return y;
    },
    shape,
    data,
  );
}

test.run();
