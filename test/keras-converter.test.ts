// The Keras layer converter (config + weights → graph → Model) against real Keras outputs: the
// keras-js cases for every channels-last configuration of the layers the converter maps.
import { suite } from 'uvu';
import { Model } from '../src/graph/model.js';
import type { KerasModelSpec } from '../src/io/keras-config.js';
import { buildKerasGraph } from '../src/io/keras.js';
import { kerasJsCases, loadKerasJs } from './fixtures.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { refConv2d, refSoftmax } from './reference.js';

interface Arr {
  data: number[];
  shape: number[];
}
interface Case {
  input: Arr;
  weights?: Arr[];
  expected: Arr;
}
await loadKerasJs();
const load = (f: string) => kerasJsCases<Case>(f);

const test = suite('keras converter on real Keras outputs');
const gpu = withGpu(test);

function layerCase(key: string, c: Case, className: string, config: Record<string, unknown>) {
  test(`${key} as a ${className} layer`, async () => {
    const spec: KerasModelSpec = {
      name: key,
      inputs: ['in'],
      outputs: ['layer'],
      layers: [
        {
          className: 'InputLayer',
          name: 'in',
          config: { batch_input_shape: [null, ...c.input.shape] },
          inbound: [],
          scope: [],
        },
        { className, name: 'layer', config: { name: 'layer', ...config }, inbound: ['in'], scope: [] },
      ],
    };
    const weights = new Map([
      ['layer', (c.weights ?? []).map((w) => ({ shape: w.shape, data: Float32Array.from(w.data) }))],
    ]);
    const model = await Model.create(await gpu(), buildKerasGraph(spec, weights, { kerasVersion: '2.1.2' }));
    try {
      assertClose(await model.predict(Float32Array.from(c.input.data)), c.expected.data, 1e-5, key);
    } finally {
      model.dispose();
    }
  });
}

const conv = load('layers/convolutional/SeparableConv2D.json');
const SEPARABLE: [number, number, string, number, string, boolean][] = [
  [4, 1, 'valid', 1, 'linear', true],
  [4, 1, 'valid', 2, 'relu', true],
  [16, 1, 'valid', 3, 'relu', true],
  [4, 2, 'valid', 1, 'relu', true],
  [4, 1, 'same', 1, 'relu', true],
  [4, 1, 'same', 2, 'relu', false],
  [4, 2, 'same', 2, 'relu', true],
];
SEPARABLE.forEach(([filters, s, padding, dm, activation, useBias], i) =>
  layerCase(`convolutional.SeparableConv2D.${i}`, conv[`convolutional.SeparableConv2D.${i}`], 'SeparableConv2D', {
    filters,
    kernel_size: [3, 3],
    strides: [s, s],
    padding,
    depth_multiplier: dm,
    activation,
    use_bias: useBias,
    data_format: 'channels_last',
  }),
);

const pad = load('layers/convolutional/ZeroPadding2D.json');
(
  [
    [0, [1, 1]],
    [2, [3, 2]],
    [
      4,
      [
        [1, 2],
        [3, 4],
      ],
    ],
    [5, 2],
  ] as const
).forEach(([i, padding]) =>
  layerCase(`convolutional.ZeroPadding2D.${i}`, pad[`convolutional.ZeroPadding2D.${i}`], 'ZeroPadding2D', { padding }),
);

const up = load('layers/convolutional/UpSampling2D.json');
(
  [
    [0, [2, 2]],
    [2, [3, 2]],
    [4, 2],
  ] as const
).forEach(([i, size]) =>
  layerCase(`convolutional.UpSampling2D.${i}`, up[`convolutional.UpSampling2D.${i}`], 'UpSampling2D', { size }),
);

const POOL: [number[], number[] | null, string][] = [
  [[2, 2], null, 'valid'],
  [[2, 2], [1, 1], 'valid'],
  [[2, 2], [2, 1], 'valid'],
  [[3, 3], null, 'valid'],
  [[3, 3], [3, 3], 'valid'],
  [[2, 2], null, 'same'],
  [[2, 2], [1, 1], 'same'],
  [[2, 2], [2, 1], 'same'],
  [[3, 3], null, 'same'],
  [[3, 3], [3, 3], 'same'],
];
for (const kind of ['MaxPooling2D', 'AveragePooling2D']) {
  const cases = load(`layers/pooling/${kind}.json`);
  POOL.forEach(([pool_size, strides, padding], i) =>
    layerCase(`pooling.${kind}.${i}`, cases[`pooling.${kind}.${i}`], kind, { pool_size, strides, padding }),
  );
}
for (const kind of ['GlobalAveragePooling2D', 'GlobalMaxPooling2D']) {
  const cases = load(`layers/pooling/${kind}.json`);
  for (const i of [0, 2]) layerCase(`pooling.${kind}.${i}`, cases[`pooling.${kind}.${i}`], kind, {});
}

const bn = load('layers/normalization/BatchNormalization.json');
(
  [
    [0, 1e-5, -1, true, true],
    [1, 1e-2, -1, true, true],
    [3, 1e-5, 2, true, true],
    [4, 1e-5, 3, true, false],
    [5, 1e-5, -1, false, true],
    [6, 1e-3, -1, false, false],
  ] as const
).forEach(([i, epsilon, axis, center, scale]) => {
  const key = `normalization.BatchNormalization.${i}`;
  if (bn[key]) layerCase(key, bn[key], 'BatchNormalization', { epsilon, axis, center, scale });
});

const dense = load('layers/core/Dense.json');
(
  [
    [0, 'linear', true],
    [1, 'sigmoid', true],
    [2, 'softplus', false],
  ] as const
).forEach(([i, activation, use_bias]) =>
  layerCase(`core.Dense.${i}`, dense[`core.Dense.${i}`], 'Dense', {
    units: dense[`core.Dense.${i}`].expected.shape.at(-1),
    activation,
    use_bias,
  }),
);

const adv = load('layers/advanced_activations.json');
layerCase('advanced_activations.LeakyReLU.0', adv['advanced_activations.LeakyReLU.0'], 'LeakyReLU', { alpha: 0.4 });
layerCase('advanced_activations.ELU.0', adv['advanced_activations.ELU.0'], 'ELU', { alpha: 1.1 });

test('Rescaling → DepthwiseConv2D → ReLU(max_value) → Reshape → Softmax matches a float64 reference', async () => {
  const layer = (className: string, name: string, config: Record<string, unknown>, inbound: string[]) => ({
    className,
    name,
    config: { name, ...config },
    inbound,
    scope: [],
  });
  const spec: KerasModelSpec = {
    name: 'chain',
    inputs: ['in'],
    outputs: ['probs'],
    layers: [
      layer('InputLayer', 'in', { batch_shape: [null, 4, 4, 3] }, []),
      layer('Rescaling', 'scale', { scale: 1 / 127.5, offset: -1 }, ['in']),
      layer(
        'DepthwiseConv2D',
        'dw',
        { kernel_size: [3, 3], padding: 'same', depth_multiplier: 2, activation: 'relu' },
        ['scale'],
      ),
      layer('ReLU', 'cap', { max_value: 0.5 }, ['dw']),
      layer('Reshape', 'rows', { target_shape: [16, 6] }, ['cap']),
      layer('Softmax', 'probs', { axis: -1 }, ['rows']),
    ],
  };
  const kernel = randomArray(3 * 3 * 3 * 2, 1),
    bias = randomArray(6, 2);
  const weights = new Map([
    [
      'dw',
      [
        { shape: [3, 3, 3, 2], data: kernel },
        { shape: [6], data: bias },
      ],
    ],
  ]);
  const model = await Model.create(await gpu(), buildKerasGraph(spec, weights, { kerasVersion: '3.5.0' }));
  try {
    const x = randomArray(2 * 48, 3, 0, 255);
    const scaled = Float64Array.from(x, (v) => v / 127.5 - 1);
    // Keras's depthwise kernel [kh, kw, c, m] is, in memory, the grouped conv kernel [kh, kw, 1, c·m].
    const dw = refConv2d({
      x: scaled,
      xShape: [2, 4, 4, 3],
      w: kernel,
      wShape: [3, 3, 1, 6],
      b: bias,
      padding: 'same',
      groups: 3,
      act: (v) => Math.min(Math.max(v, 0), 0.5),
    });
    assertClose(await model.predict(x), refSoftmax(dw.y, 6), 1e-5, 'chain');
  } finally {
    model.dispose();
  }
});

test.run();
