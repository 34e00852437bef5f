// Keras's Normalization (preprocessing: mean and variance, given or adapted), LayerNormalization,
// ConvNeXt's LayerScale and PReLU: LAYERS.md §1 and §2. Each returns IR nodes with their weights.
import type { Op } from '../graph/ir.js';
import type { NodeWeights } from '../ops/lowering.js';
import type { KerasLayer } from './keras-config.js';
import type { ConfigReader } from './keras-config-reader.js';
import { LayerError } from './keras-config-reader.js';
import type { Float32Dataset } from './hdf5.js';

export type WeightedOpNode = { name: string; op: Op; inputs: string[]; weights?: NodeWeights };

/** keras.backend.epsilon(): the floor of Normalization's standard deviation. */
const KERAS_EPSILON = Math.fround(1e-7);

/** A nested list of numbers as (shape, flat values); a number is shape []. */
function nestedArray(v: unknown, key: string): { shape: number[]; data: number[] } {
  if (typeof v === 'number') return { shape: [], data: [v] };
  if (!Array.isArray(v) || !v.length)
    throw new LayerError(`${key} ${JSON.stringify(v)?.slice(0, 60)} is not a number or a list of numbers`, key);
  const parts = v.map((e) => nestedArray(e, key));
  if (parts.some((p) => p.shape.join() !== parts[0].shape.join())) throw new LayerError(`${key} is a ragged list`, key);
  return { shape: [v.length, ...parts[0].shape], data: parts.flatMap((p) => p.data) };
}

/** Whether this Normalization holds its statistics as weights (adapted or loaded) rather than in its config. */
export const normalizationHasWeights = (config: Record<string, unknown>) =>
  config.mean === null || config.mean === undefined;

/**
 * Normalization: y = (x − mean) / max(√variance, 1e-7), or mean + x·max(√variance, 1e-7) with invert.
 * `axis` lists the kept axes; the statistics broadcast over the others (shape B: the input's, 1 on the
 * axes not kept). Positive axes need the input's rank, which Keras 3 files record on the inbound tensor.
 */
export function convertNormalization(layer: KerasLayer, c: ConfigReader, weights: Float32Dataset[]): WeightedOpNode[] {
  const { name, inbound } = layer;
  if (inbound.length !== 1) throw new LayerError(`takes one input, has ${inbound.length}`);
  const raw = c.raw('axis');
  const kept = raw === null || raw === undefined ? [] : c.intList('axis');
  let mean: { shape: number[]; data: ArrayLike<number> }, variance: { shape: number[]; data: ArrayLike<number> };
  if (normalizationHasWeights(layer.config)) {
    if (weights.length < 2 || weights.length > 3)
      throw new LayerError(`has ${weights.length} weight array(s), expected mean, variance and count`);
    [mean, variance] = weights;
  } else {
    mean = nestedArray(c.raw('mean'), 'mean');
    variance = nestedArray(c.raw('variance'), 'variance');
  }
  const values = mean.data.length;
  if (variance.data.length !== values)
    throw new LayerError(`mean has ${values} values, variance ${variance.data.length}`, 'variance');
  for (let i = 0; i < values; i++) {
    if (!(variance.data[i] >= 0))
      throw new LayerError(`variance[${i}] is ${variance.data[i]}; it must be ≥ 0`, 'variance');
  }
  // The statistics' shape as it broadcasts against the input (right-aligned, without the batch axis).
  const operandShape = values === 1 ? [1] : broadcastShape(kept, mean.shape, layer);
  const std = Float32Array.from(variance.data, (v) => Math.max(Math.fround(Math.sqrt(Math.fround(v))), KERAS_EPSILON));
  const m = Float32Array.from(mean.data);
  const op = (binary: 'sub' | 'div' | 'mul' | 'add'): Op => ({ kind: 'binary', op: binary, operandShape });
  if (c.bool('invert', false)) {
    return [
      { name: `${name}/scaled`, op: op('mul'), inputs: inbound, weights: { operand: std } },
      { name, op: op('add'), inputs: [`${name}/scaled`], weights: { operand: m } },
    ];
  }
  return [
    { name: `${name}/centred`, op: op('sub'), inputs: inbound, weights: { operand: m } },
    { name, op: op('div'), inputs: [`${name}/centred`], weights: { operand: std } },
  ];
}

/** B without the batch axis, from the innermost kept axis outwards: sizes at kept axes, 1 elsewhere. */
function broadcastShape(kept: number[], statShape: number[], layer: KerasLayer): number[] {
  const rank = layer.inboundShapes?.[0]?.length;
  const negative = kept.map((a) => {
    if (a < 0) return a;
    if (rank === undefined)
      throw new LayerError(
        `axis ${a} needs the input's rank, which this file does not record (use negative axes)`,
        'axis',
      );
    return a - rank;
  });
  if (!negative.length) throw new LayerError('axis None takes a single mean and variance', 'axis');
  const sorted = [...new Set(negative)].sort((a, b) => a - b);
  // The statistics' dims line up with the kept axes from the right; size-1 dims broadcast.
  const dims = statShape.filter((d, i) => d !== 1 || i >= statShape.length - sorted.length);
  const sizes = new Map(sorted.map((a, i) => [a, dims[dims.length - sorted.length + i] ?? 1]));
  const out: number[] = [];
  for (let a = sorted[0]; a <= -1; a++) out.push(sizes.get(a) ?? 1);
  if (out.reduce((p, d) => p * d, 1) !== statShape.reduce((p, d) => p * d, 1)) {
    throw new LayerError(`mean of shape [${statShape}] does not fit axis ${JSON.stringify(kept)}`, 'mean');
  }
  return out;
}

/** LayerNormalization: axes from the config (positive ones resolved at lowering), gamma then beta. */
export function convertLayerNorm(layer: KerasLayer, c: ConfigReader, weights: Float32Dataset[]): WeightedOpNode[] {
  if (layer.inbound.length !== 1) throw new LayerError(`takes one input, has ${layer.inbound.length}`);
  if (c.bool('rms_scaling', false)) c.fail('rms_scaling', 'true is not supported');
  const scale = c.bool('scale', true),
    center = c.bool('center', true);
  const names = [...(scale ? ['gamma'] : []), ...(center ? ['beta'] : [])];
  if (weights.length !== names.length)
    throw new LayerError(
      `has ${weights.length} weight array(s), expected ${names.length} (${names.join(', ') || 'none'})`,
    );
  const w: Record<string, Float32Array> = {};
  names.forEach((n, i) => (w[n] = weights[i].data));
  const op: Op = { kind: 'layer-norm', axes: c.intList('axis', [-1]), epsilon: c.number('epsilon', 1e-3, { min: 0 }) };
  return [{ name: layer.name, op, inputs: layer.inbound, weights: w }];
}

/** Layers whose weights are a per-element operand of a binary op: LayerScale (y = x·gamma), PReLU (slopes). */
export function convertOperandLayer(
  layer: KerasLayer,
  weights: Float32Dataset[],
  op: 'mul' | 'prelu',
  what: string,
): WeightedOpNode[] {
  if (layer.inbound.length !== 1) throw new LayerError(`takes one input, has ${layer.inbound.length}`);
  if (weights.length !== 1) throw new LayerError(`has ${weights.length} weight array(s), expected 1 (${what})`);
  const [w] = weights;
  return [
    {
      name: layer.name,
      op: { kind: 'binary', op, operandShape: w.shape.length ? w.shape : [1] },
      inputs: layer.inbound,
      weights: { operand: w.data },
    },
  ];
}
