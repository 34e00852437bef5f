// Every Keras file layout and config variant of formats.md §3, written here in the exact layouts
// Keras uses, loaded and run against a float64 reference; and each kind of bad file, rejected clearly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelFileError } from '../src/errors.js';
import { GpuContext } from '../src/gpu/context.js';
import { decodeImage } from '../src/io/image.js';
import { parseModelConfig } from '../src/io/keras-config.js';
import { loadKerasGraph, toSnakeCase } from '../src/io/keras.js';
import { formatNpy, parseNpy } from '../src/io/npy.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { assertClose, randomArray, rejects, withGpu } from './harness.js';
import { writeFullModelH5, writeKeras3WeightsH5, type LayerWeights } from './keras-writer.js';
import { refBatchNorm, refConcat, refConv2d, refGemm, refPool2d, refSoftmax } from './reference.js';

const test = suite('keras formats');
const gpu = withGpu(test);
const dir = mkdtempSync(join(tmpdir(), 'keras-formats-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// input 6×6×2 → conv_a (3×3 same relu, 3) ─┬──────────────── cat ─ pool ─ flat ─ drop ─ out (dense 4 softmax)
//                                            └ conv_b (1×1) ─ bn ─ add ┘
const W = {
  conv_a: [
    { name: 'kernel:0', shape: [3, 3, 2, 3], data: randomArray(54, 1) },
    { name: 'bias:0', shape: [3], data: randomArray(3, 2) },
  ],
  conv_b: [
    { name: 'kernel:0', shape: [1, 1, 3, 3], data: randomArray(9, 3) },
    { name: 'bias:0', shape: [3], data: randomArray(3, 4) },
  ],
  bn: [
    { name: 'gamma:0', shape: [3], data: randomArray(3, 5, 0.5, 1.5) },
    { name: 'beta:0', shape: [3], data: randomArray(3, 6) },
    { name: 'moving_mean:0', shape: [3], data: randomArray(3, 7) },
    { name: 'moving_variance:0', shape: [3], data: randomArray(3, 8, 0.5, 2) },
  ],
  out: [
    { name: 'kernel:0', shape: [54, 4], data: randomArray(216, 9) },
    { name: 'bias:0', shape: [4], data: randomArray(4, 10) },
  ],
} satisfies Record<string, LayerWeights>;
const weights = new Map<string, LayerWeights>(Object.entries(W));

function reference(x: Float32Array, n: number): Float64Array {
  const relu = (v: number) => Math.max(v, 0);
  const a = refConv2d({
    x,
    xShape: [n, 6, 6, 2],
    w: W.conv_a[0].data,
    wShape: [3, 3, 2, 3],
    b: W.conv_a[1].data,
    padding: 'same',
    act: relu,
  });
  const b = refConv2d({ x: a.y, xShape: a.shape, w: W.conv_b[0].data, wShape: [1, 1, 3, 3], b: W.conv_b[1].data });
  const bn = refBatchNorm(b.y, b.shape, 3, W.bn[0].data, W.bn[1].data, W.bn[2].data, W.bn[3].data, 1e-3);
  const add = bn.map((v, i) => v + a.y[i]);
  const cat = refConcat(
    [
      { x: a.y, shape: a.shape },
      { x: add, shape: a.shape },
    ],
    3,
  );
  const pool = refPool2d(cat, [n, 6, 6, 6], 'max', [2, 2], [2, 2], 'valid');
  return refSoftmax(refGemm(pool.y, W.out[0].data, n, 54, 4, false, W.out[1].data), 4);
}

const convA = {
  name: 'conv_a',
  filters: 3,
  kernel_size: [3, 3],
  strides: [1, 1],
  padding: 'same',
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  activation: 'relu',
  use_bias: true,
};
const convB = {
  name: 'conv_b',
  filters: 3,
  kernel_size: [1, 1],
  strides: [1, 1],
  padding: 'valid',
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  activation: 'linear',
  use_bias: true,
};
const bnCfg = { name: 'bn', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true };
const outCfg = { name: 'out', units: 4, activation: 'softmax', use_bias: true };
const LAYERS: [string, string, Record<string, unknown>, string[]][] = [
  ['InputLayer', 'input_1', {}, []],
  ['Conv2D', 'conv_a', convA, ['input_1']],
  ['Conv2D', 'conv_b', convB, ['conv_a']],
  ['BatchNormalization', 'bn', bnCfg, ['conv_b']],
  ['Add', 'add', { name: 'add' }, ['conv_a', 'bn']],
  ['Concatenate', 'cat', { name: 'cat', axis: -1 }, ['conv_a', 'add']],
  [
    'MaxPooling2D',
    'pool',
    { name: 'pool', pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' },
    ['cat'],
  ],
  ['Flatten', 'flat', { name: 'flat', data_format: 'channels_last' }, ['pool']],
  ['Dropout', 'drop', { name: 'drop', rate: 0.5 }, ['flat']],
  ['Dense', 'out', outCfg, ['drop']],
];
const layerNames = LAYERS.map((l) => l[1]);

/** Keras 2 (tf.keras 2.4) Functional config: inbound_nodes [[[name, 0, 0, {}], …]]. */
function keras2Functional() {
  return {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: LAYERS.map(([cls, name, cfg, inbound]) => ({
        class_name: cls,
        name,
        config:
          cls === 'InputLayer'
            ? { batch_input_shape: [null, 6, 6, 2], dtype: 'float32', sparse: false, ragged: false, name }
            : cfg,
        inbound_nodes: inbound.length ? [inbound.map((i) => [i, 0, 0, {}])] : [],
      })),
      input_layers: [['input_1', 0, 0]],
      output_layers: [['out', 0, 0]],
    },
  };
}

/** Keras 3 Functional config: inbound_nodes [{args: [keras tensors], kwargs}], a list arg for merges. */
function keras3Functional() {
  const tensor = (name: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null, 6, 6, 3], dtype: 'float32', keras_history: [name, 0, 0] },
  });
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    registered_name: 'Functional',
    config: {
      name: 'model',
      trainable: true,
      layers: LAYERS.map(([cls, name, cfg, inbound]) => ({
        module: 'keras.layers',
        class_name: cls,
        registered_name: null,
        name,
        config: cls === 'InputLayer' ? { batch_shape: [null, 6, 6, 2], dtype: 'float32', sparse: false, name } : cfg,
        inbound_nodes: !inbound.length
          ? []
          : [{ args: inbound.length > 1 ? [inbound.map(tensor)] : [tensor(inbound[0])], kwargs: {} }],
      })),
      input_layers: [['input_1', 0, 0]],
      output_layers: ['out', 0, 0],
    },
  };
}

async function checkRuns(file: string, format: string, options = {}) {
  const { model, info } = await loadKerasModel(file, { ctx: await gpu(), ...options });
  try {
    assert.is(info.format, format);
    const x = randomArray(2 * 72, 42);
    assertClose(await model.predict(x), reference(x, 2), 1e-5, file);
  } finally {
    model.dispose();
  }
}

test('Keras 2 Functional full-model h5 (fixed-length names, prefixed weight paths)', async () => {
  const file = join(dir, 'k2_functional.h5');
  await writeFullModelH5(file, keras2Functional(), layerNames, weights, {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
  });
  await checkRuns(file, 'h5-full-model');
});

test('Keras 3 legacy h5 (variable-length names, bare weight names, Keras 3 inbound nodes)', async () => {
  const file = join(dir, 'k3_functional.h5');
  await writeFullModelH5(file, keras3Functional(), layerNames, weights, {
    strings: 'vlen',
    weightNames: 'bare',
    kerasVersion: '3.1.1',
  });
  await checkRuns(file, 'h5-full-model');
});

test('layer_names split into layer_names0, layer_names1, … are joined', async () => {
  const file = join(dir, 'chunked.h5');
  await writeFullModelH5(file, keras2Functional(), layerNames, weights, {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
    chunkLayerNames: 3,
  });
  await checkRuns(file, 'h5-full-model');
});

test('Keras 2.1 list-form Sequential with batch_input_shape on the first layer', async () => {
  const config = {
    class_name: 'Sequential',
    config: [
      { class_name: 'Conv2D', config: { ...convA, batch_input_shape: [null, 6, 6, 2] } },
      { class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [2, 2], padding: 'valid', strides: [2, 2] } },
      { class_name: 'Flatten', config: { name: 'flat' } },
      { class_name: 'Dense', config: { ...outCfg, name: 'out2', units: 2 } },
    ],
  };
  const out2 = [
    { name: 'kernel:0', shape: [27, 2], data: randomArray(54, 11) },
    { name: 'bias:0', shape: [2], data: randomArray(2, 12) },
  ];
  const file = join(dir, 'k21_sequential.h5');
  await writeFullModelH5(
    file,
    config,
    ['conv_a', 'pool', 'flat', 'out2'],
    new Map([
      ['conv_a', W.conv_a],
      ['out2', out2],
    ]),
    { strings: 'fixed', weightNames: 'prefixed', kerasVersion: '2.1.3' },
  );
  const { graph } = await loadKerasGraph(file);
  assert.equal(graph.inputs, ['conv_a_input']);
  const { model } = await loadKerasModel(file, { ctx: await gpu() });
  try {
    const x = randomArray(72, 13);
    const a = refConv2d({
      x,
      xShape: [1, 6, 6, 2],
      w: W.conv_a[0].data,
      wShape: [3, 3, 2, 3],
      b: W.conv_a[1].data,
      padding: 'same',
      act: (v) => Math.max(v, 0),
    });
    const pool = refPool2d(a.y, a.shape, 'max', [2, 2], [2, 2], 'valid');
    assertClose(
      await model.predict(x),
      refSoftmax(refGemm(pool.y, out2[0].data, 1, 27, 2, false, out2[1].data), 2),
      1e-5,
      'sequential',
    );
  } finally {
    model.dispose();
  }
});

test('with no ctx, models share the process context on a lease that dispose() gives back', async () => {
  const file = join(dir, 'k21_sequential.h5'); // written by the test above
  const held = await GpuContext.shared(); // the test's own lease, so the context outlives the models
  try {
    const before = held.liveBytes;
    const a = await loadKerasModel(file);
    const b = await loadKerasModel(readFileSync(file), { name: 'k21_sequential.h5' });
    assert.is(a.model.ctx, held);
    assert.is(b.model.ctx, held);
    const x = randomArray(72, 14);
    assert.equal(await a.model.predict(x), await b.model.predict(x));
    a.model.dispose();
    assert.ok(held.liveBytes > before, 'b still holds its buffers');
    b.model.dispose();
    assert.is(held.liveBytes, before, 'every buffer back after both are disposed');
    await rejects(() => loadKerasModel(join(dir, 'missing.h5')), /missing\.h5: no such file/, ModelFileError);
    assert.is(held.liveBytes, before);
  } finally {
    held.release();
  }
});

test('a Functional base nested in a Sequential (a new head on a pretrained base) is inlined', async () => {
  const base = keras2Functional();
  base.config.name = 'base';
  const config = {
    class_name: 'Sequential',
    config: { name: 'sequential', layers: [{ class_name: 'Functional', config: base.config, name: 'base' }] },
  };
  const file = join(dir, 'nested.h5');
  const nested = new Map([
    ['base', ['conv_a', 'conv_b', 'bn', 'out'].map((layer) => ({ layer, arrays: weights.get(layer)! }))],
  ]);
  await writeFullModelH5(file, config, ['base'], new Map(), {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
    nested,
  });
  await checkRuns(file, 'h5-full-model');
});

test('toSnakeCase names weight groups as Keras does', () => {
  assert.equal(
    ['Conv2D', 'BatchNormalization', 'ReLU', 'SeparableConv2D', 'GlobalAveragePooling2D', 'Dense'].map(toSnakeCase),
    ['conv2d', 'batch_normalization', 're_lu', 'separable_conv2d', 'global_average_pooling2d', 'dense'],
  );
});

const KERAS3_LAYERS = [
  { key: 'conv2d', name: 'conv_a', arrays: W.conv_a },
  { key: 'conv2d_1', name: 'conv_b', arrays: W.conv_b },
  { key: 'batch_normalization', name: 'bn', arrays: W.bn },
  { key: 'dense', name: 'out', arrays: W.out },
];

async function writeDotKeras(file: string, withNames: boolean): Promise<void> {
  const h5 = join(dir, `model-${withNames}.weights.h5`);
  await writeKeras3WeightsH5(
    h5,
    withNames ? KERAS3_LAYERS.map((l, i) => ({ ...l, key: `${l.key}_x${i}` })) : KERAS3_LAYERS,
    withNames,
  );
  const zip = new JSZip();
  zip.file('metadata.json', JSON.stringify({ keras_version: '3.11.3', date_saved: '2026-01-01@00:00:00' }));
  zip.file('config.json', JSON.stringify(keras3Functional()));
  zip.file('model.weights.h5', readFileSync(h5));
  writeFileSync(file, await zip.generateAsync({ type: 'uint8array', compression: 'STORE' }));
}

test('.keras zip: weights found by derived keys (Keras 3.1) and by recorded names (Keras ≥ 3.10)', async () => {
  for (const withNames of [false, true]) {
    const file = join(dir, `model-${withNames}.keras`);
    await writeDotKeras(file, withNames);
    await checkRuns(file, 'keras-zip');
  }
});

test('standalone .weights.h5 loads with the architecture from a config', async () => {
  const file = join(dir, 'model-false.weights.h5');
  await writeKeras3WeightsH5(file, KERAS3_LAYERS, false);
  await rejects(() => loadKerasGraph(file), /Keras 3 \.weights\.h5 file with no architecture/);
  await checkRuns(file, 'weights-h5', { architecture: parseModelConfig(keras3Functional(), 'config.json') });
});

// Bad input: each a clear error naming the file and, where it applies, the layer.

test('a truncated h5 names the file and the truncation', async () => {
  const file = join(dir, 'truncated.h5');
  writeFileSync(file, readFileSync('test/fixtures/keras/naonaorange_cnn_mnist_keras2.4.0.h5').subarray(0, 600_000));
  await rejects(() => loadKerasGraph(file), /truncated\.h5: cannot open as HDF5: .*truncated file: eof = 600000/);
  writeFileSync(file, 'not hdf5 at all');
  await rejects(() => loadKerasGraph(file), /truncated\.h5: cannot open as HDF5/);
  await rejects(() => loadKerasGraph(join(dir, 'missing.h5')), /missing\.h5: no such file/);
});

test('a weight whose shape does not fit its layer names the layer, the weight and both shapes', async () => {
  const file = join(dir, 'bad_shape.h5');
  const bad = new Map(weights);
  bad.set('conv_a', [{ name: 'kernel:0', shape: [3, 3, 2, 5], data: randomArray(90, 1) }, W.conv_a[1]]);
  await writeFullModelH5(file, keras2Functional(), layerNames, bad, {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
  });
  await rejects(
    () => loadKerasGraph(file),
    /bad_shape\.h5: layer 'conv_a' \(Conv2D\): kernel has shape \[3, 3, 2, 5\], expected \[3, 3, \?, 3\]/,
  );
  const dense = new Map(weights);
  dense.set('out', [{ name: 'kernel:0', shape: [50, 4], data: randomArray(200, 1) }, W.out[1]]);
  await writeFullModelH5(file, keras2Functional(), layerNames, dense, {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
  });
  const ctx = await gpu();
  await rejects(
    () => loadKerasModel(file, { ctx }),
    /bad_shape\.h5: layer 'out' \(Dense\): input has 54 features but the kernel holds 200 values/,
    ModelFileError,
  );
});

test('a missing layer group names the layer', async () => {
  const file = join(dir, 'missing_group.h5');
  await writeFullModelH5(
    file,
    keras2Functional(),
    layerNames.filter((n) => n !== 'bn'),
    weights,
    { strings: 'fixed', weightNames: 'prefixed', kerasVersion: '2.4.0' },
  );
  await rejects(
    () => loadKerasGraph(file),
    /missing_group\.h5: no weights for layer 'bn' \(BatchNormalization\): its weight group is missing/,
  );
});

test('an unsupported layer fails before any weight is read, naming layer, class and file', async () => {
  const config = keras2Functional();
  config.config.layers.splice(8, 1, {
    class_name: 'Lambda',
    name: 'drop',
    config: { name: 'drop' } as never,
    inbound_nodes: [[['flat', 0, 0, {}]]],
  });
  const file = join(dir, 'lambda.h5');
  await writeFullModelH5(file, config, layerNames, new Map(), {
    strings: 'fixed',
    weightNames: 'prefixed',
    kerasVersion: '2.4.0',
  });
  await rejects(
    () => loadKerasGraph(file),
    /lambda\.h5: layer 'drop' has class 'Lambda', which webgpu-cnn does not support/,
  );
});

test('a damaged .keras zip is reported, not loaded', async () => {
  const good = readFileSync('test/fixtures/keras/moonflower_mnist_cnn_keras3.1.1.keras');
  const flipped = Uint8Array.from(good);
  flipped[200_000] ^= 0xff; // inside model.weights.h5's stored bytes
  const file = join(dir, 'damaged.keras');
  writeFileSync(file, flipped);
  await rejects(
    () => loadKerasGraph(file),
    /damaged\.keras: archive entry 'model\.weights\.h5' is damaged: CRC-32 mismatch/,
  );
  writeFileSync(file, good.subarray(0, 300_000));
  await rejects(() => loadKerasGraph(file), /damaged\.keras: is not a readable \.keras archive/);
});

test('an image that does not decode names the file', async () => {
  const file = join(dir, 'bad.png');
  writeFileSync(file, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  await rejects(() => decodeImage(file), /bad\.png: image does not decode/);
  writeFileSync(file, 'hello');
  await rejects(() => decodeImage(file), /bad\.png: is not a PNG or JPEG image/);
  const jpg = readFileSync('assets/images/dog.jpg').subarray(0, 2000);
  await rejects(() => decodeImage(jpg, 'cut.jpg'), /cut\.jpg: image does not decode/);
});

test('.npy: float32/float64/uint8 read as NumPy wrote them; other layouts rejected; write round-trips', () => {
  const read = (f: string) => parseNpy(readFileSync(`test/fixtures/npy/${f}`), f);
  const expected = Array.from({ length: 24 }, (_, i) => (i - 7.25) / 3);
  for (const f of ['f8_2x3x4.npy', 'f4_2x3x4.npy']) {
    const a = read(f);
    assert.equal(a.shape, [2, 3, 4]);
    assertClose(a.data, expected, 1e-6, f);
  }
  assert.equal(Array.from(read('u1_5.npy').data), [0, 1, 127, 200, 255]);
  assert.equal(read('f4_scalar.npy').shape, []);
  assert.throws(() => read('fortran.npy'), /fortran\.npy: is in Fortran order/);
  assert.throws(() => read('int64.npy'), /int64\.npy: dtype '<i8' is not supported/);
  assert.throws(() => read('big_endian.npy'), /big_endian\.npy: dtype '>f4' is not supported/);
  assert.throws(
    () => parseNpy(readFileSync('test/fixtures/npy/f4_2x3x4.npy').subarray(0, 150), 'cut.npy'),
    /cut\.npy: holds \d+ data bytes/,
  );
  const data = Float32Array.from(expected);
  const back = parseNpy(formatNpy(data, [4, 6]));
  assert.equal(back.shape, [4, 6]);
  assert.equal(Array.from(back.data), Array.from(data));
  const bytes = formatNpy(data, [24]);
  assert.is((bytes.length - data.byteLength) % 64, 0);
});

test.run();
