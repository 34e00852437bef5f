// A trained head, and a base with the head on top, as Keras Sequential models (src/io/keras-save.ts
// writes them as .keras and .h5): the head's Dense/Dropout layers named as Keras names them, and a
// chain-shaped base (VGG16 and the like) cut at the layer whose output the codes were, followed by
// the pooling the codes used, then the head.
import { UsageError } from '../errors.js';
import type { Graph, GraphWeights } from '../graph/ir.js';
import { planGraph } from '../graph/plan.js';
import type { KerasLayer, KerasModelSpec } from '../io/keras-config.js';
import type { SavedLayer, SequentialModel } from '../io/keras-save.js';
import type { HeadSpec, HeadWeights } from './head.js';

/** The head's layers: dense, dropout, dense_1, dropout_1, …, dense_N (Keras's default names). */
export function headLayers(spec: HeadSpec, weights: HeadWeights, taken: ReadonlySet<string> = new Set()): SavedLayer[] {
  const used = new Set(taken);
  const named = (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const layers: SavedLayer[] = [];
  weights.forEach((w, i) => {
    const output = i === weights.length - 1;
    layers.push({
      className: 'Dense',
      name: named('dense'),
      inputShape: [w.inputs],
      config: { units: w.units, activation: output ? spec.output : 'relu', use_bias: true },
      weights: [
        { name: 'kernel', shape: [w.inputs, w.units], data: w.kernel },
        { name: 'bias', shape: [w.units], data: w.bias },
      ],
    });
    if (!output && spec.dropout > 0) {
      layers.push({
        className: 'Dropout',
        name: named('dropout'),
        inputShape: [w.units],
        config: { rate: spec.dropout, seed: null, noise_shape: null },
        weights: [],
      });
    }
  });
  return layers;
}

/** The head alone, reading codes of `spec.inputs` features. */
export function headModel(spec: HeadSpec, weights: HeadWeights, name = 'head'): SequentialModel {
  return { name, inputShape: [spec.inputs], layers: headLayers(spec, weights) };
}

/** The keys of each layer class that Keras 3's constructors take and the math depends on. */
const BASE_KEYS: Record<string, string[]> = {
  Conv2D: ['filters', 'kernel_size', 'strides', 'padding', 'dilation_rate', 'activation', 'use_bias'],
  Dense: ['units', 'activation', 'use_bias'],
  MaxPooling2D: ['pool_size', 'strides', 'padding'],
  AveragePooling2D: ['pool_size', 'strides', 'padding'],
  GlobalAveragePooling2D: ['keepdims'],
  GlobalMaxPooling2D: ['keepdims'],
  Flatten: [],
  Dropout: ['rate'],
  Activation: ['activation'],
  ReLU: ['max_value', 'negative_slope', 'threshold'],
};

/** Kernels and biases by layer name (a fine-tuned block's). */
export type TunedWeights = ReadonlyMap<string, { kernel: Float32Array; bias: Float32Array }>;

export interface BaseModel {
  spec: KerasModelSpec;
  graph: Graph;
  weights: GraphWeights;
}

/** The weight arrays of one base layer with their Keras shapes, from the loaded graph's node. */
function baseWeights(layer: KerasLayer, base: BaseModel, tuned?: TunedWeights): SavedLayer['weights'] {
  const w = tuned?.get(layer.name) ?? base.weights.get(layer.name);
  if (!w) return [];
  const c = layer.config;
  if (layer.className === 'Dense') {
    const units = c.units as number;
    return [
      { name: 'kernel', shape: [w.kernel.length / units, units], data: w.kernel },
      ...(w.bias ? [{ name: 'bias', shape: [units], data: w.bias }] : []),
    ];
  }
  const [kh, kw] = (Array.isArray(c.kernel_size) ? c.kernel_size : [c.kernel_size, c.kernel_size]) as number[];
  const filters = c.filters as number;
  const kernel = { name: 'kernel', shape: [kh, kw, w.kernel.length / (kh * kw * filters), filters], data: w.kernel };
  return [kernel, ...(w.bias ? [{ name: 'bias', shape: [filters], data: w.bias }] : [])];
}

/**
 * The base up to `codeLayer`, then `pooling` (or a Flatten when the code is a 4-D map), then the head:
 * one Sequential that maps images to the head's classes. The base must be a chain of the layers in
 * BASE_KEYS (VGG16 is), each reading the one before it.
 */
export function fullModel(
  base: BaseModel,
  codeLayer: string,
  pooling: 'avg' | 'max' | undefined,
  spec: HeadSpec,
  weights: HeadWeights,
  /** Fine-tuned layers' kernels and biases, by layer name, in place of the base's. */
  tuned?: TunedWeights,
  name = 'transfer',
): SequentialModel {
  const layers = base.spec.layers;
  const end = layers.findIndex((l) => l.name === codeLayer);
  if (end < 0) throw new UsageError(`the base has no layer '${codeLayer}'`, '--layer');
  const plan = planGraph(base.graph, 1, {
    maxWorkgroupsPerDimension: 2 ** 31,
    maxInvocationsPerWorkgroup: 1024,
    maxStorageBindingBytes: 2 ** 52,
  });
  const shapeOf = (layer: string) => {
    const nodes = base.graph.nodes.filter((n) => (n.source?.layer ?? n.name) === layer);
    return (plan.shapes.get(layer) ?? plan.shapes.get(nodes[nodes.length - 1]?.name ?? ''))?.slice(1);
  };
  const out: SavedLayer[] = [];
  let previous: string | undefined;
  let inputShape: number[] | undefined;
  for (const layer of layers.slice(0, end + 1)) {
    if (layer.className === 'InputLayer') {
      inputShape = shapeOf(layer.name);
      previous = layer.name;
      continue;
    }
    const keys = BASE_KEYS[layer.className];
    if (!keys || (layer.className === 'Conv2D' && (layer.config.groups ?? 1) !== 1)) {
      throw new UsageError(
        `whole-model export takes chain bases of ${Object.keys(BASE_KEYS).join(', ')} layers; ` +
          `'${layer.name}' is a ${layer.className}`,
      );
    }
    if (layer.scope.length || layer.inbound.length !== 1 || (previous !== undefined && layer.inbound[0] !== previous)) {
      throw new UsageError(`whole-model export takes chain bases; '${layer.name}' does not read the layer before it`);
    }
    const config: Record<string, unknown> = {};
    for (const k of keys) if (layer.config[k] !== undefined) config[k] = layer.config[k];
    out.push({
      className: layer.className,
      name: layer.name,
      config,
      weights: baseWeights(layer, base, tuned),
      inputShape: shapeOf(previous!)!,
    });
    previous = layer.name;
  }
  if (!inputShape) throw new UsageError('the base has no input layer');
  const codeShape = shapeOf(codeLayer)!;
  if (codeShape.length === 3) {
    const [className, layerName] =
      pooling === 'avg'
        ? ['GlobalAveragePooling2D', 'global_average_pooling2d']
        : pooling === 'max'
          ? ['GlobalMaxPooling2D', 'global_max_pooling2d']
          : ['Flatten', 'flatten'];
    out.push({
      className,
      name: out.some((l) => l.name === layerName) ? `${layerName}_head` : layerName,
      config: {},
      weights: [],
      inputShape: codeShape,
    });
  }
  out.push(...headLayers(spec, weights, new Set(out.map((l) => l.name))));
  return { name, inputShape, layers: out };
}
