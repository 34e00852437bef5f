// One Keras layer → IR nodes, with its weights checked against the shapes its config implies.
// Weights arrive in Keras's order (trainable first: kernel, bias; gamma, beta, moving mean/variance),
// already in the internal layout: Keras is NHWC with HWIO kernels and [in, out] dense kernels.
import type { Node, Op } from '../graph/ir.js';
import type { Activation } from '../ops/activation.js';
import type { Padding } from '../ops/padding.js';
import { declaredInputShape, type KerasLayer } from './keras-config.js';
import { ModelFileError } from './errors.js';
import type { Float32Dataset } from './hdf5.js';

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'BatchNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'ELU',
  'Softmax', 'Dropout', 'Flatten', 'Reshape', 'ZeroPadding2D', 'UpSampling2D', 'Add', 'Concatenate', 'Rescaling',
] as const;

/** Old class names Keras still reads, mapped to the current ones. */
const ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D', MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D', GlobalMaxPool2D: 'GlobalMaxPooling2D', SeparableConvolution2D: 'SeparableConv2D',
};

export function canonicalClass(className: string): string {
  return ALIASES[className] ?? className;
}

export function isSupportedLayer(className: string): boolean {
  return (SUPPORTED_LAYERS as readonly string[]).includes(canonicalClass(className));
}

/** Layers that hold weights, and how many arrays each may have. */
export function expectsWeights(layer: KerasLayer): boolean {
  return ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization'].includes(canonicalClass(layer.className));
}

export interface ConvertOptions {
  /** Keras major version: 'hard_sigmoid' differs between 2 (0.2x+0.5) and 3 (relu6(x+3)/6). */
  kerasMajor: number;
  /** Overrides for input layers whose shape has unknown (null) dimensions. */
  inputShape?: number[];
}

class LayerError extends Error {}

const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  throw new LayerError(`${what} ${JSON.stringify(v)} is not a number or a pair`);
};

function activationOf(value: unknown, kerasMajor: number): Activation | 'softmax' {
  const name = typeof value === 'object' && value !== null ? (value as { config?: unknown }).config : value;
  switch (name ?? 'linear') {
    case 'linear': return { kind: 'linear' };
    case 'relu': return { kind: 'relu' };
    case 'relu6': return { kind: 'relu6' };
    case 'sigmoid': return { kind: 'sigmoid' };
    case 'tanh': return { kind: 'tanh' };
    case 'elu': return { kind: 'elu' };
    case 'selu': return { kind: 'selu' };
    case 'softplus': return { kind: 'softplus' };
    case 'softsign': return { kind: 'softsign' };
    case 'hard_sigmoid': return kerasMajor >= 3 ? { kind: 'hard_sigmoid', slope: 1 / 6, offset: 0.5 } : { kind: 'hard_sigmoid' };
    case 'swish': case 'silu': return { kind: 'swish' };
    case 'mish': return { kind: 'mish' };
    case 'softmax': return 'softmax';
    default: throw new LayerError(`activation '${JSON.stringify(name)}' is not supported`);
  }
}

function padding(config: Record<string, unknown>): Padding {
  const p = config.padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') throw new LayerError(`padding '${p}' is not supported (only 'valid' and 'same')`);
  return p;
}

function checkChannelsLast(config: Record<string, unknown>): void {
  if (config.data_format && config.data_format !== 'channels_last') {
    throw new LayerError(`data_format '${config.data_format}' is not supported (only channels_last)`);
  }
}

function expectShape(w: Float32Dataset, expected: (number | undefined)[], what: string): void {
  const ok = w.shape.length === expected.length && expected.every((d, i) => d === undefined || d === w.shape[i]);
  if (!ok) {
    throw new LayerError(`${what} has shape [${w.shape.join(', ')}], expected [${expected.map((d) => d ?? '?').join(', ')}]`);
  }
}

function takeWeights(weights: Float32Dataset[], names: string[]): Float32Dataset[] {
  if (weights.length !== names.length) {
    throw new LayerError(`has ${weights.length} weight array(s), expected ${names.length} (${names.join(', ')})`);
  }
  return weights;
}

/** The layer's output node is named after the layer; helper nodes get `name/suffix`. */
function withActivation(name: string, inputs: string[], op: Op & { kind: 'conv2d' | 'dense' }, act: Activation | 'softmax', className: string): Node[] {
  const source = { className };
  if (act !== 'softmax') {
    if (op.kind === 'conv2d') op.attrs.activation = act;
    else op.activation = act;
    return [{ name, op, inputs, source }];
  }
  return [
    { name: `${name}/linear`, op, inputs, source },
    { name, op: { kind: 'softmax' }, inputs: [`${name}/linear`], source },
  ];
}

function convert(layer: KerasLayer, weights: Float32Dataset[], options: ConvertOptions): Node[] {
  const c = layer.config;
  const { name, inbound } = layer;
  const className = canonicalClass(layer.className);
  const node = (op: Op, inputs = inbound): Node[] => [{ name, op, inputs, source: { className: layer.className } }];
  const one = () => {
    if (inbound.length !== 1) throw new LayerError(`takes one input, has ${inbound.length}`);
  };
  switch (className) {
    case 'InputLayer': {
      const declared = declaredInputShape(c) ?? (c.input_shape as number[] | undefined);
      const shape = options.inputShape ?? declared;
      if (!shape || shape.some((d) => d === null)) {
        throw new LayerError(`input shape [${(declared ?? []).map((d) => d ?? 'None').join(', ')}] is not fully known; give an input shape`);
      }
      return node({ kind: 'input', shape: shape as number[] }, []);
    }
    case 'Conv2D': case 'DepthwiseConv2D': case 'SeparableConv2D': {
      one();
      checkChannelsLast(c);
      const [kh, kw] = pair(c.kernel_size, 'kernel_size');
      const attrs = { strides: pair(c.strides ?? 1, 'strides'), dilations: pair(c.dilation_rate ?? 1, 'dilation_rate'), padding: padding(c) };
      const useBias = c.use_bias !== false;
      const act = activationOf(c.activation, options.kerasMajor);
      if (className === 'Conv2D') {
        const [kernel, bias] = takeWeights(weights, useBias ? ['kernel', 'bias'] : ['kernel']);
        const filters = c.filters as number;
        const groups = (c.groups as number | undefined) ?? 1;
        expectShape(kernel, [kh, kw, undefined, filters], 'kernel');
        if (bias) expectShape(bias, [filters], 'bias');
        const op: Op = { kind: 'conv2d', attrs: { ...attrs, groups }, weights: kernel.data, shape: kernel.shape as [number, number, number, number], bias: bias?.data };
        return withActivation(name, inbound, op, act, layer.className);
      }
      const dm = (c.depth_multiplier as number | undefined) ?? 1;
      const names = className === 'SeparableConv2D' ? ['depthwise_kernel', 'pointwise_kernel'] : ['depthwise_kernel'];
      const [depthwise, ...rest] = takeWeights(weights, useBias ? [...names, 'bias'] : names);
      expectShape(depthwise, [kh, kw, undefined, dm], 'depthwise_kernel');
      const cin = depthwise.shape[2];
      // Keras's depthwise kernel [kh, kw, c, m] has exactly the memory order of HWIO [kh, kw, 1, c·m].
      const dwShape: [number, number, number, number] = [kh, kw, 1, cin * dm];
      if (className === 'DepthwiseConv2D') {
        const bias = rest[0];
        if (bias) expectShape(bias, [cin * dm], 'bias');
        const op: Op = { kind: 'conv2d', attrs: { ...attrs, groups: cin }, weights: depthwise.data, shape: dwShape, bias: bias?.data };
        return withActivation(name, inbound, op, act, layer.className);
      }
      const [pointwise, bias] = rest;
      const filters = c.filters as number;
      expectShape(pointwise, [1, 1, cin * dm, filters], 'pointwise_kernel');
      if (bias) expectShape(bias, [filters], 'bias');
      const dwName = `${name}/depthwise`;
      const dwNode: Node = { name: dwName, op: { kind: 'conv2d', attrs: { ...attrs, groups: cin }, weights: depthwise.data, shape: dwShape }, inputs: inbound, source: { className: layer.className } };
      const pw: Op = { kind: 'conv2d', attrs: {}, weights: pointwise.data, shape: [1, 1, cin * dm, filters], bias: bias?.data };
      return [dwNode, ...withActivation(name, [dwName], pw, act, layer.className)];
    }
    case 'Dense': {
      one();
      const useBias = c.use_bias !== false;
      const [kernel, bias] = takeWeights(weights, useBias ? ['kernel', 'bias'] : ['kernel']);
      const units = c.units as number;
      expectShape(kernel, [undefined, units], 'kernel');
      if (bias) expectShape(bias, [units], 'bias');
      return withActivation(name, inbound, { kind: 'dense', weights: kernel.data, units, bias: bias?.data }, activationOf(c.activation, options.kerasMajor), layer.className);
    }
    case 'MaxPooling2D': case 'AveragePooling2D': {
      one();
      checkChannelsLast(c);
      const size = pair(c.pool_size ?? 2, 'pool_size');
      const strides = c.strides == null ? size : pair(c.strides, 'strides');
      return node({ kind: 'pool2d', attrs: { kind: className === 'MaxPooling2D' ? 'max' : 'avg', size, strides, padding: padding(c) } });
    }
    case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D':
      one();
      checkChannelsLast(c);
      return node({ kind: 'global-pool', pool: className === 'GlobalMaxPooling2D' ? 'max' : 'avg', keepDims: !!(c.keepdims ?? c.keep_dims) });
    case 'BatchNormalization': {
      one();
      const axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : NaN) : (c.axis as number | undefined) ?? -1;
      if (!Number.isInteger(axis)) throw new LayerError(`axis ${JSON.stringify(c.axis)} is not a single axis`);
      const names = [...(c.scale !== false ? ['gamma'] : []), ...(c.center !== false ? ['beta'] : []), 'moving_mean', 'moving_variance'];
      const arrays = takeWeights(weights, names);
      const byName = Object.fromEntries(names.map((n, i) => [n, arrays[i]]));
      const channels = byName.moving_mean.shape[0];
      names.forEach((n) => expectShape(byName[n], [channels], n));
      return node({
        kind: 'batchnorm', axis,
        params: { gamma: byName.gamma?.data, beta: byName.beta?.data, mean: byName.moving_mean.data, variance: byName.moving_variance.data, epsilon: (c.epsilon as number | undefined) ?? 1e-3 },
      });
    }
    case 'Activation': {
      one();
      const act = activationOf(c.activation, options.kerasMajor);
      return node(act === 'softmax' ? { kind: 'softmax' } : { kind: 'activation', activation: act });
    }
    case 'ReLU': {
      one();
      if (c.threshold) throw new LayerError(`threshold ${c.threshold} is not supported`);
      const maxValue = c.max_value == null ? undefined : Number(c.max_value);
      return node({ kind: 'activation', activation: { kind: 'relu', maxValue, negativeSlope: Number(c.negative_slope ?? 0) } });
    }
    case 'LeakyReLU':
      one();
      return node({ kind: 'activation', activation: { kind: 'leaky', alpha: Number(c.negative_slope ?? c.alpha ?? 0.3) } });
    case 'ELU':
      one();
      return node({ kind: 'activation', activation: { kind: 'elu', alpha: Number(c.alpha ?? 1) } });
    case 'Softmax': {
      one();
      const axis = c.axis ?? -1;
      if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) throw new LayerError(`softmax over axis ${JSON.stringify(axis)} is not supported (only -1)`);
      return node({ kind: 'softmax' });
    }
    case 'Dropout':
      one();
      return node({ kind: 'identity' });
    case 'Flatten':
      one();
      checkChannelsLast(c);
      return node({ kind: 'reshape', shape: [-1] });
    case 'Reshape':
      one();
      return node({ kind: 'reshape', shape: (c.target_shape as number[]).map(Number) });
    case 'ZeroPadding2D': {
      one();
      checkChannelsLast(c);
      const p = c.padding ?? 1;
      const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]]
        : Array.isArray(p) && typeof p[0] === 'number' ? [[p[0], p[0]], [p[1], p[1]]]
        : [pair((p as unknown[])[0], 'padding'), pair((p as unknown[])[1], 'padding')];
      return node({ kind: 'pad', pads: [t, b, l, r] });
    }
    case 'UpSampling2D': {
      one();
      checkChannelsLast(c);
      if ((c.interpolation ?? 'nearest') !== 'nearest') throw new LayerError(`interpolation '${c.interpolation}' is not supported (only nearest)`);
      return node({ kind: 'upsample', factors: pair(c.size ?? 2, 'size') });
    }
    case 'Add': {
      if (inbound.length < 2) throw new LayerError(`needs at least two inputs, has ${inbound.length}`);
      // n inputs become a chain of pairwise adds; the last one carries the layer's name.
      const nodes: Node[] = [];
      let acc = inbound[0];
      for (let i = 1; i < inbound.length; i++) {
        const out = i === inbound.length - 1 ? name : `${name}/partial${i}`;
        nodes.push({ name: out, op: { kind: 'add' }, inputs: [acc, inbound[i]], source: { className: layer.className } });
        acc = out;
      }
      return nodes;
    }
    case 'Concatenate':
      if (inbound.length < 2) throw new LayerError(`needs at least two inputs, has ${inbound.length}`);
      return node({ kind: 'concat', axis: (c.axis as number | undefined) ?? -1 });
    case 'Rescaling': {
      one();
      const arr = (v: unknown, dflt: number) => Float32Array.from(Array.isArray(v) ? v.map(Number) : [Number(v ?? dflt)]);
      return node({ kind: 'scale', scale: arr(c.scale, 1), offset: arr(c.offset, 0) });
    }
    default:
      throw new LayerError(`class '${layer.className}' is not supported; supported: ${SUPPORTED_LAYERS.join(', ')}`);
  }
}

/** IR nodes for one Keras layer; every error names the layer, its class and the file. */
export function convertLayer(layer: KerasLayer, weights: Float32Dataset[], file: string, options: ConvertOptions): Node[] {
  try {
    const nodes = convert(layer, weights, options);
    nodes.forEach((n) => (n.source = { className: layer.className, file, layer: layer.name }));
    return nodes;
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    throw new ModelFileError(file, `layer '${layer.name}' (${layer.className}): ${e.message}`);
  }
}
