// keras.applications the Keras way: families recognised by their layer names with their preprocess_input
// mode (checked on every keras-zoo/apps model), preprocess_input against Keras's own output for dog.jpg,
// and Keras's weights-only application files, written here in Keras's exact legacy layout from the
// keras-zoo models' weights (reduced widths; the file's widths and classes are read from its weights, its
// classifier named as older files name it), loaded with and without the top, and recognised by inspect.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKerasGraph } from '../src/io/keras.js';
import type { KerasModelSpec } from '../src/io/keras-config.js';
import { parseNpy } from '../src/io/npy.js';
import { preprocessInput, type PreprocessMode } from '../src/models/imagenet.js';
import { layerNamesOf, recognizeFamily } from '../src/models/keras-applications.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { inspect } from '../src/tools/keras-commands.js';
import { fixtureBytes } from './fixtures.js';
import { assertClose, withGpu } from './harness.js';
import { writeLegacyWeightsH5, type LayerWeights } from './keras-writer.js';
import { refSoftmax } from './reference.js';

const APPS = 'test/fixtures/keras-zoo/apps';
const test = suite('keras applications');
const gpu = withGpu(test);
const dir = mkdtempSync(join(tmpdir(), 'keras-apps-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const npy = async (path: string) => parseNpy(await fixtureBytes(path), path).data;
const present = existsSync(`${APPS}/manifest.json`);

/** Keras's preprocess_input family per fixture model (apps/manifest.json's _preprocess_input, by family). */
const EXPECTED: Record<string, [string, PreprocessMode | 'none']> = {
  // ResNet101/152's reduced depth (2 blocks per stage) leaves only the family's common names.
  VGG16: ['VGG16', 'caffe'],
  VGG19: ['VGG19', 'caffe'],
  ResNet50: ['ResNet50', 'caffe'],
  ResNet101: ['ResNet', 'caffe'],
  ResNet152: ['ResNet', 'caffe'],
  ResNet50V2: ['ResNetV2', 'tf'],
  ResNet101V2: ['ResNetV2', 'tf'],
  ResNet152V2: ['ResNetV2', 'tf'],
  InceptionV3: ['InceptionV3', 'tf'],
  InceptionResNetV2: ['InceptionResNetV2', 'tf'],
  Xception: ['Xception', 'tf'],
  MobileNet: ['MobileNet', 'tf'],
  MobileNetV2: ['MobileNetV2', 'tf'],
  MobileNetV3Small: ['MobileNetV3', 'none'],
  MobileNetV3Large: ['MobileNetV3', 'none'],
  DenseNet121: ['DenseNet', 'torch'],
  DenseNet169: ['DenseNet', 'torch'],
  DenseNet201: ['DenseNet', 'torch'],
  NASNetMobile: ['NASNet', 'tf'],
  NASNetLarge: ['NASNet', 'tf'],
  ...Object.fromEntries(
    ['B0', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'V2B0', 'V2B1', 'V2B2', 'V2B3', 'V2S', 'V2M', 'V2L'].map((v) => [
      `EfficientNet${v}`,
      ['EfficientNet', 'none'],
    ]),
  ),
  ...Object.fromEntries(
    ['Tiny', 'Small', 'Base', 'Large', 'XLarge'].map((v) => [`ConvNeXt${v}`, ['ConvNeXt', 'none']]),
  ),
};

if (present) {
  test('every application family is recognised by its layer names, with its preprocess_input mode', async () => {
    for (const [model, [family, mode]] of Object.entries(EXPECTED)) {
      const { spec } = await loadKerasGraph(`${APPS}/${model}.keras`);
      const got = recognizeFamily(layerNamesOf(spec));
      assert.is(got?.name, family, model);
      assert.is(got?.preprocess, mode, `${model} preprocess`);
    }
  });
}

test("preprocess_input 'caffe', 'tf', 'torch' give Keras's arrays for dog.jpg (load_img 224×224 pixels)", async () => {
  const x = await npy(`${APPS}/preprocess_identity.npy`);
  // Keras computes in float32 and rounds where float64 does not: a few 1e-7 of the largest value.
  for (const mode of ['caffe', 'tf', 'torch'] as const) {
    assertClose(preprocessInput(x, mode), await npy(`${APPS}/preprocess_${mode}.npy`), 3e-7, mode, 'normalized');
  }
});

/** The fixture model's weights per layer, named and shaped as Keras's legacy files hold them. */
async function kerasWeights(model: string): Promise<{ spec: KerasModelSpec; weights: Map<string, LayerWeights> }> {
  const { spec, graph, weights } = await loadKerasGraph(`${APPS}/${model}.keras`);
  const out = new Map<string, LayerWeights>();
  for (const layer of spec.layers) {
    const node = graph.nodes.find((n) => n.name === layer.name);
    const w = weights.get(layer.name);
    if (!node || !w) continue;
    const op = node.op;
    if (op.kind === 'conv2d') {
      const [kh, kw, cg, oc] = op.kernelShape;
      const depthwise = layer.className === 'DepthwiseConv2D';
      out.set(layer.name, [
        depthwise
          ? { name: 'depthwise_kernel:0', shape: [kh, kw, oc, 1], data: w.kernel }
          : { name: 'kernel:0', shape: [kh, kw, cg, oc], data: w.kernel },
        ...(w.bias ? [{ name: 'bias:0', shape: [oc], data: w.bias }] : []),
      ]);
    } else if (op.kind === 'dense') {
      out.set(layer.name, [
        { name: 'kernel:0', shape: [w.kernel.length / op.units, op.units], data: w.kernel },
        { name: 'bias:0', shape: [op.units], data: w.bias },
      ]);
    } else if (op.kind === 'batchnorm') {
      out.set(
        layer.name,
        (['gamma', 'beta', 'mean', 'variance'] as const).map((k) => ({
          name: `${k === 'mean' ? 'moving_mean' : k === 'variance' ? 'moving_variance' : k}:0`,
          shape: [op.channels],
          data: w[k],
        })),
      );
    }
  }
  return { spec, weights: out };
}

/** The fixture's layers as a weights-only file lists them, 'predictions' renamed (`classifier`), or the top dropped. */
async function writeWeightsOnly(model: string, top: boolean, classifier: string, last: string): Promise<string> {
  const { spec, weights } = await kerasWeights(model);
  const cut = spec.layers.findIndex((l) => l.name === last);
  const layers = (top ? spec.layers : spec.layers.slice(0, cut + 1)).map((l) =>
    l.name === 'predictions' ? { ...l, name: classifier } : l,
  );
  const renamed = new Map([...weights].map(([k, v]) => [k === 'predictions' ? classifier : k, v]));
  const file = join(dir, `${model}_${top ? 'top' : 'notop'}.h5`);
  await writeLegacyWeightsH5(file, { ...spec, layers }, renamed);
  return file;
}

/** [fixture, classifier's name in old files, last layer before the top, the pooled layer Keras's notop+avg gives]. */
const WEIGHTS_ONLY: [string, string, string, string][] = [
  ['ResNet50', 'probs', 'conv5_block3_out', 'avg_pool'],
  ['MobileNet', 'predictions', 'conv_pw_13_relu', 'global_average_pooling2d'],
  ['MobileNetV2', 'Logits', 'out_relu', 'global_average_pooling2d'],
  ['VGG19', 'predictions', 'block5_pool', 'block5_pool'],
];

for (const [model, classifier, last, pooled] of present ? WEIGHTS_ONLY : []) {
  if (model !== 'VGG19') {
    test(`${model} weights-only with top (reduced width, 5 classes): recognised, softmax(Keras's logits)`, async () => {
      const file = await writeWeightsOnly(model, true, classifier, last);
      const { model: m, info } = await loadKerasModel(file, { ctx: await gpu(), inputShape: [32, 32, 3] });
      try {
        assert.is(info.format, 'h5-weights-only');
        assert.is(info.family?.name, model);
        const y = await m.predict(await npy(`${APPS}/${model}.input.npy`), 2);
        assertClose(y, refSoftmax(await npy(`${APPS}/${model}.output.npy`), 5), 2e-5, model);
      } finally {
        m.dispose();
      }
    });
  }
  test(`${model} weights-only notop file with pooling 'avg' matches the full model's pooled features`, async () => {
    const file = await writeWeightsOnly(model, false, classifier, last);
    const ctx = await gpu();
    const { model: headless } = await loadKerasModel(file, {
      ctx: ctx,
      inputShape: [32, 32, 3],
      pooling: model === 'VGG19' ? undefined : 'avg',
    });
    const { model: full } = await loadKerasModel(`${APPS}/${model}.keras`, { ctx: ctx, keep: [pooled] });
    try {
      const x = await npy(`${APPS}/${model}.input.npy`);
      const want = (await full.run(x, { batch: 2, intermediates: [pooled] })).intermediates.get(pooled)!.data;
      assertClose(await headless.predict(x, 2), want, 1e-6, `${model} notop`, 'normalized');
    } finally {
      headless.dispose();
      full.dispose();
    }
  });
}

if (present) {
  test('inspect recognises a weights-only application file', async () => {
    const file = await writeWeightsOnly('MobileNetV2', true, 'Logits', 'out_relu');
    const lines: string[] = [];
    await inspect([file, '--input-shape', '32,32,3'], {
      out: (l) => lines.push(l),
      err: () => {},
      tty: false,
      quiet: true,
    });
    assert.match(lines[0], /h5-weights-only.*recognised as Keras's mobilenetv2_1.00_224 application/);
    assert.ok(
      lines.some((l) => /Logits \(Dense\)\s+\(None, 5\)/.test(l)),
      lines.join('\n'),
    );
  });
}

test.run();
