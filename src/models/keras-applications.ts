// keras.applications the Keras way: which family a model belongs to (by its layer names, as every
// application names them), that family's preprocess_input mode, and the architectures of the weights-only
// application files (VGG19, ResNet50, MobileNet, MobileNetV2; VGG16 in vgg16.ts), which hold no config.
// Those architectures are Keras's own model configs (assets/keras-apps/, written by
// scripts/keras-fixtures/app_architectures.py at the default width); a file's widths (MobileNet's alpha)
// and classes are read from its weight shapes, and its layers are matched in order, as Keras's
// load_weights does, taking the file's names (older files call the classifier 'probs' or 'Logits').
import { UsageError } from '../errors.js';
import { parseModelConfig, type KerasLayer, type KerasModelSpec } from '../io/keras-config.js';
import { expectsWeights } from '../io/keras-layers.js';
import type { PreprocessMode } from './imagenet.js';

/** How a family's inputs are prepared: a preprocess_input mode, or 'none' for families that preprocess inside. */
export type FamilyPreprocess = PreprocessMode | 'none';

export interface ApplicationFamily {
  /** Keras's name for it (keras.applications.<name>). */
  name: string;
  preprocess: FamilyPreprocess;
  /** The weights-only files' architecture (assets/keras-apps/<asset>[_notop].json), where supported. */
  asset?: string;
}

const has = (names: Set<string>, ...wanted: string[]) => wanted.every((n) => names.has(n));
const some = (names: Set<string>, pattern: RegExp) => [...names].some((n) => pattern.test(n));

/** First match wins: more specific families before the ones they resemble. */
const FAMILIES: [ApplicationFamily, (names: Set<string>) => boolean][] = [
  [{ name: 'VGG19', preprocess: 'caffe', asset: 'vgg19' }, (n) => has(n, 'block1_conv1', 'block5_conv4')],
  [{ name: 'VGG16', preprocess: 'caffe' }, (n) => has(n, 'block1_conv1', 'block5_conv3')],
  [{ name: 'ResNetV2', preprocess: 'tf' }, (n) => has(n, 'conv1_conv', 'post_bn')],
  [{ name: 'ResNet152', preprocess: 'caffe' }, (n) => has(n, 'conv1_conv', 'conv3_block8_3_conv')],
  [{ name: 'ResNet101', preprocess: 'caffe' }, (n) => has(n, 'conv1_conv', 'conv4_block23_3_conv')],
  [{ name: 'ResNet50', preprocess: 'caffe', asset: 'resnet50' }, (n) => has(n, 'conv1_conv', 'conv5_block3_3_conv')],
  [{ name: 'ResNet', preprocess: 'caffe' }, (n) => has(n, 'conv1_conv', 'conv2_block1_0_conv')],
  [{ name: 'DenseNet', preprocess: 'torch' }, (n) => has(n, 'conv1_conv', 'pool2_conv')],
  [{ name: 'InceptionResNetV2', preprocess: 'tf' }, (n) => has(n, 'conv_7b')],
  [{ name: 'InceptionV3', preprocess: 'tf' }, (n) => has(n, 'mixed10')],
  [{ name: 'Xception', preprocess: 'tf' }, (n) => has(n, 'block14_sepconv2')],
  [{ name: 'MobileNetV3', preprocess: 'none' }, (n) => some(n, /squeeze_excite_conv$/) && some(n, /^expanded_conv/)],
  [{ name: 'MobileNetV2', preprocess: 'tf', asset: 'mobilenet_v2' }, (n) => has(n, 'block_16_project')],
  [{ name: 'MobileNet', preprocess: 'tf', asset: 'mobilenet' }, (n) => has(n, 'conv_pw_13')],
  [{ name: 'NASNet', preprocess: 'tf' }, (n) => has(n, 'stem_bn1') && some(n, /^normal_concat/)],
  [{ name: 'EfficientNet', preprocess: 'none' }, (n) => has(n, 'stem_conv', 'top_conv')],
  [{ name: 'ConvNeXt', preprocess: 'none' }, (n) => some(n, /^convnext_\w+_stem/)],
];

/** The keras.applications family whose layer names these are, if any. */
export function recognizeFamily(layerNames: Iterable<string>): ApplicationFamily | undefined {
  const names = new Set(layerNames);
  return FAMILIES.find(([, test]) => test(names))?.[0];
}

/** The layer names of a model spec, for recognizeFamily. */
export const layerNamesOf = (spec: KerasModelSpec) => spec.layers.map((l) => l.name);

async function architectureJson(asset: string, top: boolean): Promise<Record<string, unknown>> {
  // Each a separate import, so a browser bundle fetches only the one a file needs.
  const modules: Record<string, () => Promise<{ default: unknown }>> = {
    vgg19: () => import('../../assets/keras-apps/vgg19.json'),
    vgg19_notop: () => import('../../assets/keras-apps/vgg19_notop.json'),
    resnet50: () => import('../../assets/keras-apps/resnet50.json'),
    resnet50_notop: () => import('../../assets/keras-apps/resnet50_notop.json'),
    mobilenet: () => import('../../assets/keras-apps/mobilenet.json'),
    mobilenet_notop: () => import('../../assets/keras-apps/mobilenet_notop.json'),
    mobilenet_v2: () => import('../../assets/keras-apps/mobilenet_v2.json'),
    mobilenet_v2_notop: () => import('../../assets/keras-apps/mobilenet_v2_notop.json'),
  };
  return (await modules[`${asset}${top ? '' : '_notop'}`]()).default as Record<string, unknown>;
}

export interface ApplicationOptions {
  /** Without the top: 'avg' or 'max' adds global pooling, as Keras's `pooling` argument. */
  pooling?: 'avg' | 'max' | null;
  /** Input shape without batch (default 224×224×3; VGG19 with its top needs 224×224). */
  inputShape?: number[];
}

/** The weighted layers of a weights-only file, in its order, with their weight shapes. */
export interface FileLayer {
  name: string;
  shapes: number[][];
}

/**
 * The architecture of a weights-only application file: the family's Keras config with or without its
 * top (whichever has as many weighted layers as the file), widths and classes from the file's weight
 * shapes, its weighted layers renamed to the file's (matched in order), and Keras's pooling and input.
 */
export async function applicationArchitecture(
  family: ApplicationFamily,
  file: FileLayer[],
  options: ApplicationOptions = {},
): Promise<KerasModelSpec | undefined> {
  if (!family.asset) return undefined;
  for (const top of [true, false]) {
    const spec = parseModelConfig(
      await architectureJson(family.asset, top),
      `${family.asset}${top ? '' : '_notop'}.json`,
    );
    const weighted = spec.layers.filter(expectsWeights);
    if (weighted.length !== file.length) continue;
    if (!weighted.every((l, i) => fits(l, file[i].shapes))) continue;
    return adapt(spec, weighted, file, top, options);
  }
  return undefined;
}

/** Whether a file layer's weights can belong to this architecture layer (kernel rank and weight count). */
function fits(layer: KerasLayer, shapes: number[][]): boolean {
  const c = layer.config;
  switch (layer.className) {
    case 'Conv2D':
      return shapes.length === (c.use_bias === false ? 1 : 2) && shapes[0].length === 4;
    case 'DepthwiseConv2D':
      return shapes.length === (c.use_bias === false ? 1 : 2) && shapes[0].length === 4;
    case 'Dense':
      return shapes.length === (c.use_bias === false ? 1 : 2) && shapes[0].length === 2;
    case 'BatchNormalization':
      return shapes.length === 4 && shapes[0].length === 1;
    default:
      return false;
  }
}

function adapt(
  spec: KerasModelSpec,
  weighted: KerasLayer[],
  file: FileLayer[],
  top: boolean,
  options: ApplicationOptions,
): KerasModelSpec {
  const rename = new Map(weighted.map((l, i) => [l.name, file[i].name]));
  const layers = spec.layers.map(
    (l): KerasLayer => ({ ...l, config: { ...l.config }, inbound: l.inbound.map((n) => rename.get(n) ?? n) }),
  );
  layers.forEach((l) => {
    const i = weighted.findIndex((w) => w.name === l.name);
    if (i >= 0) {
      l.name = file[i].name;
      l.config.name = l.name;
      const kernel = file[i].shapes[0];
      if (l.className === 'Conv2D') l.config.filters = kernel[3];
      if (l.className === 'Dense') l.config.units = kernel[1];
    }
  });
  // MobileNet's top is a 1×1 conv to the classes, then Reshape((classes,)).
  const preds = layers.find((l) => l.name === rename.get('conv_preds'));
  if (preds)
    for (const l of layers)
      if (l.className === 'Reshape' && l.inbound[0] === preds.name) l.config.target_shape = [preds.config.filters];
  const input = layers.find((l) => l.className === 'InputLayer')!;
  const shape = options.inputShape ?? [224, 224, 3];
  if (top && layers.some((l) => l.className === 'Flatten') && (shape[0] !== 224 || shape[1] !== 224)) {
    throw new UsageError(`${spec.name} with its top needs a 224×224 input, got ${shape[0]}×${shape[1]}`);
  }
  input.config = { ...input.config, batch_shape: [null, ...shape] };
  const outputs = spec.outputs.map((n) => rename.get(n) ?? n);
  if (!top && options.pooling) {
    const name = options.pooling === 'avg' ? 'avg_pool' : 'max_pool';
    const className = options.pooling === 'avg' ? 'GlobalAveragePooling2D' : 'GlobalMaxPooling2D';
    layers.push({ className, name, config: { name }, inbound: [outputs[0]], scope: [] });
    outputs[0] = name;
  }
  return { ...spec, layers, outputs };
}
