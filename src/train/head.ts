// The classifier head that transfer learning trains on top of a frozen base: Dense layers with ReLU,
// each followed by Dropout, then a Dense output with softmax (one class per row) or sigmoid
// (independent labels). Initialised as Keras initialises Dense layers (glorot_uniform kernels, zero
// biases), from the project's seeded generator, so a seed always gives the same head.
import { UsageError } from '../errors.js';
import { rng } from '../random.js';

export type HeadOutput = 'softmax' | 'sigmoid';

/** The architecture of a head: `inputs` → hidden ReLU layers (with dropout after each) → `classes`. */
export interface HeadSpec {
  /** Features per code (the base's output size). */
  inputs: number;
  /** Units of each hidden Dense+ReLU layer; [] trains a linear (logistic-regression) head. */
  hidden: number[];
  /** Dropout rate after each hidden layer, in [0, 1). */
  dropout: number;
  classes: number;
  output: HeadOutput;
}

/** One Dense layer's values: kernel inputs×units row-major (Keras's layout), bias units. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

/** A head's weights, layer by layer (hidden layers first, the output layer last). */
export type HeadWeights = DenseWeights[];

/** The Dense layers' sizes: [inputs, units] per layer. */
export function denseShapes(spec: HeadSpec): [number, number][] {
  const sizes = [spec.inputs, ...spec.hidden, spec.classes];
  return sizes.slice(1).map((units, i) => [sizes[i], units]);
}

export function checkHeadSpec(spec: HeadSpec): void {
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  if (!whole(spec.inputs)) throw new UsageError(`a head needs a positive number of input features, got ${spec.inputs}`);
  if (!whole(spec.classes)) throw new UsageError(`a head needs at least one class, got ${spec.classes}`);
  if (spec.output === 'softmax' && spec.classes < 2)
    throw new UsageError('a softmax head needs at least 2 classes (use sigmoid for one)');
  if (spec.hidden.some((h) => !whole(h)))
    throw new UsageError(`hidden layer sizes must be positive, got ${spec.hidden.join(',')}`, '--hidden');
  if (!(spec.dropout >= 0 && spec.dropout < 1)) throw new UsageError(`${spec.dropout} is not in [0, 1)`, '--dropout');
}

/**
 * Keras's glorot_uniform: U(−l, l) with l = √(6 / (fan_in + fan_out)); biases zero. Keras draws
 * from its own generator, so the values differ from Keras's, but not their distribution.
 */
export function initHead(spec: HeadSpec, seed: number): HeadWeights {
  checkHeadSpec(spec);
  const next = rng(seed);
  return denseShapes(spec).map(([inputs, units]) => {
    const limit = Math.sqrt(6 / (inputs + units));
    const kernel = new Float32Array(inputs * units);
    for (let i = 0; i < kernel.length; i++) kernel[i] = (2 * next() - 1) * limit;
    return { kernel, bias: new Float32Array(units), inputs, units };
  });
}

/** Where each layer's kernel and bias sit in one flat buffer of every trainable value. */
export interface FlatLayout {
  layers: { kernel: number; bias: number; inputs: number; units: number }[];
  /** Floats in the buffer (with the alignment gaps). */
  total: number;
}

/**
 * Every kernel and bias in one buffer, each starting at a multiple of `align` floats (64 floats =
 * 256 bytes, WebGPU's default minStorageBufferOffsetAlignment), so each binds as its own range while
 * one optimiser dispatch updates them all and one copy saves them all. The gaps hold zeros with zero
 * gradients, which every optimiser leaves at zero.
 */
export function flatLayout(spec: HeadSpec, align = 64): FlatLayout {
  let at = 0;
  const take = (n: number) => {
    const start = at;
    at += Math.ceil(n / align) * align;
    return start;
  };
  const layers = denseShapes(spec).map(([inputs, units]) => ({
    kernel: take(inputs * units),
    bias: take(units),
    inputs,
    units,
  }));
  return { layers, total: at };
}

export function flatten(weights: HeadWeights, layout: FlatLayout): Float32Array {
  const flat = new Float32Array(layout.total);
  weights.forEach((w, i) => {
    flat.set(w.kernel, layout.layers[i].kernel);
    flat.set(w.bias, layout.layers[i].bias);
  });
  return flat;
}

export function unflatten(flat: Float32Array, layout: FlatLayout): HeadWeights {
  return layout.layers.map((l) => ({
    kernel: flat.slice(l.kernel, l.kernel + l.inputs * l.units),
    bias: flat.slice(l.bias, l.bias + l.units),
    inputs: l.inputs,
    units: l.units,
  }));
}
