// One Keras layer → IR nodes, with its weights checked against the shapes its config implies.
// Weights arrive in Keras's order (trainable first: kernel, bias; gamma, beta, moving mean/variance),
// already in the internal layout: Keras is NHWC with HWIO kernels and [in, out] dense kernels.
import type { Node, Op } from '../graph/ir.js';
import type { NodeWeights } from '../ops/lowering.js';
import type { Activation } from '../ops/activation.js';
import { declaredInputShape, type KerasLayer } from './keras-config.js';
import { ModelFileError } from './errors.js';
import type { Float32Dataset } from './hdf5.js';
import { ConfigReader, LayerError } from './keras-config-reader.js';
import {
  convertNormalization,
  convertLayerNorm,
  convertOperandLayer,
  normalizationHasWeights,
} from './keras-norm-layers.js';
import { convertCustomScale, convertMerge, convertOperation, MERGE_LAYERS, OPERATIONS } from './keras-operations.js';

export const SUPPORTED_LAYERS = [
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Dense',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'Dropout',
  'Flatten',
  'Reshape',
  'ZeroPadding2D',
  'UpSampling2D',
  'Add',
  'Concatenate',
  'Rescaling',
  ...MERGE_LAYERS,
  'Normalization',
  'LayerNormalization',
  'Cropping2D',
  'Permute',
  'PReLU',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'ActivityRegularization',
  'LayerScale',
  'CustomScaleLayer',
];

/** Classes refused with a reason of their own rather than as unknown. */
const REFUSED: Record<string, string> = {
  Lambda:
    'a Lambda layer holds arbitrary Python code, which cannot run here ' +
    '(Keras itself loads it only with safe_mode=False); ' +
    'rebuild the model with built-in layers or keras.ops',
};

/** Old class names Keras still reads, mapped to the current ones. */
const ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  SeparableConvolution2D: 'SeparableConv2D',
};

export function canonicalClass(className: string): string {
  return ALIASES[className] ?? className;
}

export function isSupportedLayer(className: string): boolean {
  return (SUPPORTED_LAYERS as readonly string[]).includes(canonicalClass(className));
}

/** Whether a layer or operation node of the model can be converted. */
export function isSupported(layer: KerasLayer): boolean {
  return layer.operation ? OPERATIONS.includes(layer.className) : isSupportedLayer(layer.className);
}

/** Why a class is refused: its own reason where it has one (Lambda), else that it is not supported. */
export function refusal(layer: KerasLayer): string {
  const what = layer.operation ? 'operation' : 'class';
  const why = REFUSED[layer.className];
  return `has ${what} '${layer.className}', which webgpu-cnn does not support${why ? `: ${why}` : ''}`;
}

/** Layers that hold weights. */
export function expectsWeights(layer: KerasLayer): boolean {
  if (layer.operation) return false;
  const c = layer.config;
  switch (canonicalClass(layer.className)) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
    case 'Dense':
    case 'BatchNormalization':
    case 'PReLU':
    case 'LayerScale':
      return true;
    case 'Normalization':
      return normalizationHasWeights(c);
    case 'LayerNormalization':
      return c.scale !== false || c.center !== false;
    default:
      return false;
  }
}

export interface ConvertOptions {
  /** Keras major version: 'hard_sigmoid' differs between 2 (0.2x+0.5) and 3 (relu6(x+3)/6). */
  kerasMajor: number;
  /** Overrides for input layers whose shape has unknown (null) dimensions. */
  inputShape?: number[];
  /** Accept weights holding NaN or ±Inf and negative batch-norm variances (refused by default). */
  allowBadWeights?: boolean;
}

function activationOf(value: unknown, kerasMajor: number): Activation | 'softmax' | 'log_softmax' {
  // Keras 3 serialises a named activation as {module, class_name: 'function', config: 'relu'}.
  const name = typeof value === 'object' && value !== null ? (value as { config?: unknown }).config : value;
  switch (name ?? 'linear') {
    case 'linear':
      return { kind: 'linear' };
    case 'relu':
      return { kind: 'relu' };
    case 'relu6':
      return { kind: 'relu6' };
    case 'sigmoid':
      return { kind: 'sigmoid' };
    case 'tanh':
      return { kind: 'tanh' };
    case 'elu':
      return { kind: 'elu' };
    case 'selu':
      return { kind: 'selu' };
    case 'softplus':
      return { kind: 'softplus' };
    case 'softsign':
      return { kind: 'softsign' };
    case 'hard_sigmoid':
      return kerasMajor >= 3 ? { kind: 'hard_sigmoid', slope: 1 / 6, offset: 0.5 } : { kind: 'hard_sigmoid' };
    case 'swish':
    case 'silu':
      return { kind: 'swish' };
    case 'mish':
      return { kind: 'mish' };
    case 'gelu':
      return { kind: 'gelu' }; // Activation('gelu') is the exact erf form
    case 'celu':
      return { kind: 'celu' };
    case 'hard_silu':
    case 'hard_swish':
      return { kind: 'hard_swish' };
    case 'exponential':
      return { kind: 'exponential' };
    case 'leaky_relu':
      return { kind: 'leaky', alpha: 0.2 };
    case 'log_sigmoid':
      return { kind: 'log_sigmoid' };
    case 'hard_tanh':
      return { kind: 'hard_tanh' };
    case 'softmax':
      return 'softmax';
    case 'log_softmax':
      return 'log_softmax';
    default:
      throw new LayerError(`activation ${JSON.stringify(name)} is not supported`, 'activation');
  }
}

function checkChannelsLast(c: ConfigReader): void {
  if (c.has('data_format')) c.choice('data_format', ['channels_last']);
}

function expectShape(w: Float32Dataset, expected: (number | undefined)[], what: string): void {
  const ok = w.shape.length === expected.length && expected.every((d, i) => d === undefined || d === w.shape[i]);
  if (!ok) {
    throw new LayerError(
      `${what} has shape [${w.shape.join(', ')}], expected [${expected.map((d) => d ?? '?').join(', ')}]`,
      what,
    );
  }
}

/** The layer's arrays, named; each checked finite (and variances ≥ 0) unless bad weights are allowed. */
function takeWeights(weights: Float32Dataset[], names: string[], options: ConvertOptions): Float32Dataset[] {
  if (weights.length !== names.length) {
    throw new LayerError(`has ${weights.length} weight array(s), expected ${names.length} (${names.join(', ')})`);
  }
  if (!options.allowBadWeights) {
    weights.forEach((w, i) => {
      // A variance may sit a rounding error below zero; √(σ² + ε) with Keras's smallest ε (1e-5 or more) stays finite.
      const above = names[i] === 'moving_variance' ? -1e-6 : -Infinity;
      const bad = w.data.findIndex((v) => !Number.isFinite(v) || v <= above);
      if (bad >= 0) {
        const what = Number.isFinite(w.data[bad]) ? `negative (${w.data[bad]})` : String(w.data[bad]);
        throw new LayerError(
          `${names[i]}[${bad}] is ${what}; ` +
            'the file is damaged (load with allowBadWeights / --allow-bad-weights to use it anyway)',
          names[i],
        );
      }
    });
  }
  return weights;
}

/** An IR node with the weight arrays the layer gives it (split off into GraphWeights by the loader). */
export type LayerNode = Node & { weights?: NodeWeights };

/** Weight arrays without the absent ones (a layer without bias). */
function arrays(named: Record<string, Float32Dataset | undefined>): NodeWeights {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(named)) if (v) out[k] = v.data;
  return out;
}

/** The layer's output node is named after the layer; helper nodes get `name/suffix`. */
function withActivation(
  name: string,
  inputs: string[],
  op: Op & { kind: 'conv2d' | 'dense' },
  act: Activation | 'softmax' | 'log_softmax',
  className: string,
  weights: NodeWeights,
): LayerNode[] {
  const source = { className };
  if (act !== 'softmax' && act !== 'log_softmax') {
    if (op.kind === 'conv2d') op.attrs.activation = act;
    else op.activation = act;
    return [{ name, op, inputs, source, weights }];
  }
  return [
    { name: `${name}/linear`, op, inputs, source, weights },
    { name, op: { kind: act === 'softmax' ? 'softmax' : 'log-softmax' }, inputs: [`${name}/linear`], source },
  ];
}

/** ZeroPadding2D's padding: n, (h, w), or ((top, bottom), (left, right)); all ≥ 0. */
function zeroPads(c: ConfigReader, key = 'padding'): [number, number, number, number] {
  const p = c.raw(key) ?? (key === 'padding' ? 1 : 0);
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (ok(p)) return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2 && p.every(ok)) return [p[0], p[0], p[1], p[1]];
  if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok))) {
    const [[t, b], [l, r]] = p as [number, number][];
    return [t, b, l, r];
  }
  return c.fail(
    key,
    `${JSON.stringify(p)} is not n, (h, w) or ((top, bottom), (left, right)) of non-negative integers`,
  );
}

/**
 * ReLU with a threshold t, as Keras computes it: min(x·[x > t], max_value) (clipped at 0 too when there is
 * a max_value), minus slope·relu(t − x).
 */
function reluWithThreshold(
  name: string,
  inbound: string[],
  t: number,
  maxValue: number | undefined,
  slope: number,
): LayerNode[] {
  const positive = slope ? `${name}/positive` : name;
  const nodes: LayerNode[] = [
    {
      name: maxValue === undefined ? positive : `${name}/thresholded`,
      inputs: inbound,
      op: { kind: 'activation', activation: { kind: 'thresholded_relu', theta: t } },
    },
  ];
  if (maxValue !== undefined) {
    nodes.push({
      name: positive,
      op: { kind: 'activation', activation: { kind: 'relu', maxValue } },
      inputs: [`${name}/thresholded`],
    });
  }
  if (!slope) return nodes;
  return [
    ...nodes,
    {
      name: `${name}/below`,
      op: { kind: 'binary', op: 'sub', constant: { value: t, first: true }, activation: { kind: 'relu' } },
      inputs: inbound,
    },
    {
      name: `${name}/negative`,
      op: { kind: 'binary', op: 'mul', constant: { value: slope } },
      inputs: [`${name}/below`],
    },
    { name, op: { kind: 'binary', op: 'sub' }, inputs: [positive, `${name}/negative`] },
  ];
}

function convert(layer: KerasLayer, weights: Float32Dataset[], options: ConvertOptions): LayerNode[] {
  const c = new ConfigReader(layer.config);
  const { name, inbound } = layer;
  if (layer.operation) return convertOperation(layer, c);
  const className = canonicalClass(layer.className);
  const node = (op: Op, inputs = inbound, w?: NodeWeights): LayerNode[] => [
    { name, op, inputs, source: { className: layer.className }, weights: w },
  ];
  const take = (names: string[]) => takeWeights(weights, names, options);
  const one = () => {
    if (inbound.length !== 1) throw new LayerError(`takes one input, has ${inbound.length}`);
  };
  switch (className) {
    case 'InputLayer': {
      const declared = declaredInputShape(layer.config) ?? (layer.config.input_shape as (number | null)[] | undefined);
      const shape = options.inputShape ?? declared;
      if (!shape || shape.some((d) => d === null)) {
        const dims = (declared ?? []).map((d) => d ?? 'None').join(', ');
        throw new LayerError(`input shape [${dims}] is not fully known; give an input shape`, 'batch_shape');
      }
      if (shape.some((d) => !(Number.isInteger(d) && d! >= 1)))
        throw new LayerError(`input shape [${shape.join(', ')}] must be positive integers`, 'batch_shape');
      return node({ kind: 'input', shape: shape as number[] }, []);
    }
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      one();
      checkChannelsLast(c);
      const [kh, kw] = c.pair('kernel_size');
      const attrs = {
        strides: c.pair('strides', 1),
        dilations: c.pair('dilation_rate', 1),
        padding: c.choice('padding', ['valid', 'same'] as const),
      };
      const useBias = c.bool('use_bias', true);
      const act = activationOf(c.raw('activation'), options.kerasMajor);
      if (className === 'Conv2D') {
        const [kernel, bias] = take(useBias ? ['kernel', 'bias'] : ['kernel']);
        const filters = c.int('filters', undefined, { min: 1 });
        const groups = c.int('groups', 1, { min: 1 });
        expectShape(kernel, [kh, kw, undefined, filters], 'kernel');
        if (bias) expectShape(bias, [filters], 'bias');
        const op = {
          kind: 'conv2d' as const,
          attrs: { ...attrs, groups },
          kernelShape: kernel.shape as [number, number, number, number],
        };
        return withActivation(name, inbound, op, act, layer.className, arrays({ kernel, bias }));
      }
      const dm = c.int('depth_multiplier', 1, { min: 1 });
      const names = className === 'SeparableConv2D' ? ['depthwise_kernel', 'pointwise_kernel'] : ['depthwise_kernel'];
      const [depthwise, ...rest] = take(useBias ? [...names, 'bias'] : names);
      expectShape(depthwise, [kh, kw, undefined, dm], 'depthwise_kernel');
      const cin = depthwise.shape[2];
      // Keras's depthwise kernel [kh, kw, c, m] has exactly the memory order of HWIO [kh, kw, 1, c·m].
      const dwShape: [number, number, number, number] = [kh, kw, 1, cin * dm];
      if (className === 'DepthwiseConv2D') {
        const bias = rest[0];
        if (bias) expectShape(bias, [cin * dm], 'bias');
        const op = { kind: 'conv2d' as const, attrs: { ...attrs, groups: cin }, kernelShape: dwShape };
        return withActivation(name, inbound, op, act, layer.className, arrays({ kernel: depthwise, bias }));
      }
      const [pointwise, bias] = rest;
      const filters = c.int('filters', undefined, { min: 1 });
      expectShape(pointwise, [1, 1, cin * dm, filters], 'pointwise_kernel');
      if (bias) expectShape(bias, [filters], 'bias');
      const dwName = `${name}/depthwise`;
      const dwNode: LayerNode = {
        name: dwName,
        op: { kind: 'conv2d', attrs: { ...attrs, groups: cin }, kernelShape: dwShape },
        inputs: inbound,
        source: { className: layer.className },
        weights: arrays({ kernel: depthwise }),
      };
      const pw = {
        kind: 'conv2d' as const,
        attrs: {},
        kernelShape: [1, 1, cin * dm, filters] as [number, number, number, number],
      };
      return [dwNode, ...withActivation(name, [dwName], pw, act, layer.className, arrays({ kernel: pointwise, bias }))];
    }
    case 'Dense': {
      one();
      const useBias = c.bool('use_bias', true);
      const [kernel, bias] = take(useBias ? ['kernel', 'bias'] : ['kernel']);
      const units = c.int('units', undefined, { min: 1 });
      expectShape(kernel, [undefined, units], 'kernel');
      if (bias) expectShape(bias, [units], 'bias');
      return withActivation(
        name,
        inbound,
        { kind: 'dense', units, inFeatures: kernel.shape[0] },
        activationOf(c.raw('activation'), options.kerasMajor),
        layer.className,
        arrays({ kernel, bias }),
      );
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      one();
      checkChannelsLast(c);
      const size = c.pair('pool_size', 2);
      const strides = c.has('strides') ? c.pair('strides') : size;
      return node({
        kind: 'pool2d',
        attrs: {
          kind: className === 'MaxPooling2D' ? 'max' : 'avg',
          size,
          strides,
          padding: c.choice('padding', ['valid', 'same'] as const),
        },
      });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      one();
      checkChannelsLast(c);
      return node({
        kind: 'global-pool',
        pool: className === 'GlobalMaxPooling2D' ? 'max' : 'avg',
        keepDims: c.bool(c.has('keep_dims') ? 'keep_dims' : 'keepdims', false),
      });
    case 'BatchNormalization': {
      one();
      const axes = c.intList('axis', [-1]);
      if (axes.length !== 1) c.fail('axis', `${JSON.stringify(c.raw('axis'))} is not a single axis`);
      const names = [
        ...(c.bool('scale', true) ? ['gamma'] : []),
        ...(c.bool('center', true) ? ['beta'] : []),
        'moving_mean',
        'moving_variance',
      ];
      const taken = take(names);
      const byName = Object.fromEntries(names.map((n, i) => [n, taken[i]]));
      const channels = byName.moving_mean.shape[0];
      names.forEach((n) => expectShape(byName[n], [channels], n));
      return node(
        { kind: 'batchnorm', axis: axes[0], channels, epsilon: c.number('epsilon', 1e-3, { min: 0 }) },
        inbound,
        arrays({ gamma: byName.gamma, beta: byName.beta, mean: byName.moving_mean, variance: byName.moving_variance }),
      );
    }
    case 'Activation': {
      one();
      const act = activationOf(c.raw('activation'), options.kerasMajor);
      if (typeof act === 'string') return node({ kind: act === 'softmax' ? 'softmax' : 'log-softmax' });
      return node({ kind: 'activation', activation: act });
    }
    case 'ReLU': {
      one();
      const threshold = c.number('threshold', 0);
      const maxValue = c.optionalNumber('max_value', { min: 0 });
      const negativeSlope = c.number('negative_slope', 0);
      if (!threshold) return node({ kind: 'activation', activation: { kind: 'relu', maxValue, negativeSlope } });
      return reluWithThreshold(name, inbound, threshold, maxValue, negativeSlope);
    }
    case 'LeakyReLU':
      one();
      return node({
        kind: 'activation',
        activation: { kind: 'leaky', alpha: c.number(c.has('negative_slope') ? 'negative_slope' : 'alpha', 0.3) },
      });
    case 'ELU':
      one();
      return node({ kind: 'activation', activation: { kind: 'elu', alpha: c.number('alpha', 1) } });
    case 'Softmax': {
      one();
      const axes = c.intList('axis', [-1]);
      if (axes.length !== 1 || axes[0] !== -1)
        c.fail('axis', `${JSON.stringify(c.raw('axis'))}: softmax over other axes than -1 is not supported`);
      return node({ kind: 'softmax' });
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'ActivityRegularization':
      one();
      return node({ kind: 'identity' });
    case 'Multiply':
    case 'Subtract':
    case 'Maximum':
    case 'Minimum':
    case 'Average':
      return convertMerge(layer);
    case 'CustomScaleLayer':
      return convertCustomScale(layer, c);
    case 'Normalization':
      return convertNormalization(layer, c, weights);
    case 'LayerNormalization':
      return convertLayerNorm(layer, c, take(weights.map((_, i) => (i ? 'beta' : 'gamma'))));
    case 'LayerScale':
      return convertOperandLayer(layer, take(['gamma']), 'mul', 'gamma');
    case 'PReLU':
      return convertOperandLayer(layer, take(['alpha']), 'prelu', 'alpha');
    case 'Cropping2D': {
      one();
      checkChannelsLast(c);
      const [t, b, l, r] = zeroPads(c, 'cropping');
      return node({ kind: 'crop2d', crops: [t, b, l, r] });
    }
    case 'Permute': {
      one();
      const dims = c.intList('dims');
      if ([...dims].sort().some((d, i) => d !== i + 1))
        c.fail('dims', `${JSON.stringify(dims)} is not a permutation of 1…${dims.length}`);
      return node({ kind: 'transpose', perm: [0, ...dims] });
    }
    case 'Flatten':
      one();
      checkChannelsLast(c);
      return node({ kind: 'reshape', shape: [-1] });
    case 'Reshape': {
      one();
      const target = c.intList('target_shape');
      if (target.some((d) => d < 1 && d !== -1))
        c.fail('target_shape', `${JSON.stringify(target)} must be positive sizes (one may be -1)`);
      return node({ kind: 'reshape', shape: target });
    }
    case 'ZeroPadding2D':
      one();
      checkChannelsLast(c);
      return node({ kind: 'pad', pads: zeroPads(c) });
    case 'UpSampling2D':
      one();
      checkChannelsLast(c);
      c.choice('interpolation', ['nearest']);
      return node({ kind: 'upsample', factors: c.pair('size', 2) });
    case 'Add': {
      if (inbound.length < 2) throw new LayerError(`needs at least two inputs, has ${inbound.length}`);
      // n inputs become a chain of pairwise adds; the last one carries the layer's name.
      const nodes: LayerNode[] = [];
      let acc = inbound[0];
      for (let i = 1; i < inbound.length; i++) {
        const out = i === inbound.length - 1 ? name : `${name}/partial${i}`;
        nodes.push({
          name: out,
          op: { kind: 'add' },
          inputs: [acc, inbound[i]],
          source: { className: layer.className },
        });
        acc = out;
      }
      return nodes;
    }
    case 'Concatenate':
      if (inbound.length < 2) throw new LayerError(`needs at least two inputs, has ${inbound.length}`);
      return node({ kind: 'concat', axis: c.int('axis', -1) });
    case 'Rescaling': {
      one();
      const arr = (key: string, dflt: number) => {
        const v = c.raw(key) ?? dflt;
        const list = Array.isArray(v) ? v : [v];
        if (!list.every((x) => typeof x === 'number' && Number.isFinite(x)))
          c.fail(key, `${JSON.stringify(v)} is not a number or a list of numbers`);
        return Float32Array.from(list as number[]);
      };
      const scale = arr('scale', 1),
        offset = arr('offset', 0);
      return node({ kind: 'scale', scaleLength: scale.length, offsetLength: offset.length }, inbound, {
        scale,
        offset,
      });
    }
    default:
      throw new LayerError(
        REFUSED[layer.className] ??
          `class '${layer.className}' is not supported; supported: ${SUPPORTED_LAYERS.join(', ')}`,
      );
  }
}

/** IR nodes for one Keras layer; every error names the layer, its class and the file. */
export function convertLayer(
  layer: KerasLayer,
  weights: Float32Dataset[],
  file: string,
  options: ConvertOptions,
): LayerNode[] {
  try {
    const nodes = convert(layer, weights, options);
    nodes.forEach((n) => (n.source = { className: layer.className, file, layer: layer.name }));
    return nodes;
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    throw new ModelFileError(file, `layer '${layer.name}' (${layer.className}): ${e.message}`, {
      layer: layer.name,
      field: e.field,
    });
  }
}
