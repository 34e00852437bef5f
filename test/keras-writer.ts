// Writes Keras weight files in Keras's exact legacy layout (what model.save_weights and the
// applications' VGG16 files contain), with deterministic pseudo-random weights, using h5wasm's
// writer. Used by the VGG16 tests and benchmark, since the real VGG16 files are not shipped.
import type { KerasLayer, KerasModelSpec } from '../src/io/keras-config.js';
import { rng } from './harness.js';

/** The arrays a layer holds, with shapes, in Keras order (kernel, bias). */
export type LayerWeights = { name: string; shape: number[]; data: Float32Array }[];

/** He-uniform kernels and small biases: activations keep their scale through a deep ReLU stack. */
export function heWeights(layer: KerasLayer, inputChannels: number, seed: number): LayerWeights {
  const c = layer.config;
  const next = rng(seed);
  const uniform = (n: number, limit: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * next() - 1) * limit;
    return a;
  };
  if (layer.className === 'Conv2D') {
    const [kh, kw] = c.kernel_size as number[];
    const filters = c.filters as number;
    const fanIn = kh * kw * inputChannels;
    return [
      {
        name: 'kernel:0',
        shape: [kh, kw, inputChannels, filters],
        data: uniform(fanIn * filters, Math.sqrt(6 / fanIn)),
      },
      { name: 'bias:0', shape: [filters], data: uniform(filters, 0.05) },
    ];
  }
  if (layer.className === 'Dense') {
    const units = c.units as number;
    // Small logits keep a softmax head unsaturated, so its ranking means something.
    const limit = Math.sqrt(6 / inputChannels) * (c.activation === 'softmax' ? 0.01 : 1);
    return [
      { name: 'kernel:0', shape: [inputChannels, units], data: uniform(inputChannels * units, limit) },
      { name: 'bias:0', shape: [units], data: uniform(units, 0.05) },
    ];
  }
  return [];
}

/**
 * Writes `weights` (layer name → arrays) as a Keras 2 weights-only file: root attributes layer_names
 * (fixed-length strings), backend and keras_version; one group per layer with weight_names, datasets
 * at <layer>/<layer>/<name>; weightless layers get an empty float64 weight_names.
 */
export async function writeLegacyWeightsH5(
  path: string,
  spec: KerasModelSpec,
  weights: Map<string, LayerWeights>,
): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  try {
    const names = spec.layers.map((l) => l.name);
    const width = (list: string[]) => `S${Math.max(1, ...list.map((s) => s.length))}`;
    f.create_attribute('layer_names', names, [names.length], width(names));
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', '2.2.4');
    for (const layer of spec.layers) {
      const g = f.create_group(layer.name);
      const arrays = weights.get(layer.name) ?? [];
      if (!arrays.length) {
        g.create_attribute('weight_names', new Float64Array(0), [0]);
        continue;
      }
      const weightNames = arrays.map((a) => `${layer.name}/${a.name}`);
      g.create_attribute('weight_names', weightNames, [weightNames.length], width(weightNames));
      const inner = g.create_group(layer.name);
      for (const a of arrays) inner.create_dataset({ name: a.name, data: a.data, shape: a.shape, dtype: '<f' });
    }
  } finally {
    f.close();
  }
}

/** He-style weights for every Conv2D/Dense of a chain-shaped spec, tracking channels along the chain. */
export function chainWeights(spec: KerasModelSpec, inputShape: number[], seed: number): Map<string, LayerWeights> {
  const out = new Map<string, LayerWeights>();
  let [h, w, ch] = inputShape;
  let flat = 0;
  spec.layers.forEach((layer, i) => {
    const c = layer.config;
    if (layer.className === 'Conv2D') {
      out.set(layer.name, heWeights(layer, ch, seed + i));
      ch = c.filters as number;
    } else if (layer.className === 'MaxPooling2D') {
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    } else if (layer.className === 'Flatten') {
      flat = h * w * ch;
    } else if (layer.className === 'Dense') {
      out.set(layer.name, heWeights(layer, flat, seed + i));
      flat = c.units as number;
    }
  });
  return out;
}

export interface FullModelOptions {
  /** Keras 2 stores names as fixed-length strings, Keras 3 as variable-length ones. */
  strings: 'fixed' | 'vlen';
  /** 'prefixed': weight_names 'conv/kernel:0' in subgroup conv/ (Keras 2); 'bare': 'kernel' directly (Keras 3). */
  weightNames: 'prefixed' | 'bare';
  kerasVersion: string;
  /** Split layer_names into layer_names0, layer_names1, … of this many entries (as Keras does past 64 KB). */
  chunkLayerNames?: number;
  /** Extra groups under model_weights with their own weights (a nested model: name → [path, arrays]). */
  nested?: Map<string, { layer: string; arrays: LayerWeights }[]>;
}

/** A model.save() file: root model_config JSON, model_weights with the §3.1 structure. */
export async function writeFullModelH5(
  path: string,
  modelConfig: unknown,
  layerNames: string[],
  weights: Map<string, LayerWeights>,
  options: FullModelOptions,
): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const strings = (g: import('h5wasm').Group, name: string, list: string[]) => {
    if (!list.length) g.create_attribute(name, new Float64Array(0), [0]);
    else if (options.strings === 'fixed')
      g.create_attribute(name, list, [list.length], `S${Math.max(...list.map((s) => s.length))}`);
    else g.create_attribute(name, list, [list.length]);
  };
  try {
    f.create_attribute('keras_version', options.kerasVersion);
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('model_config', typeof modelConfig === 'string' ? modelConfig : JSON.stringify(modelConfig));
    const mw = f.create_group('model_weights');
    if (options.chunkLayerNames) {
      for (let i = 0; i * options.chunkLayerNames < layerNames.length; i++) {
        strings(
          mw,
          `layer_names${i}`,
          layerNames.slice(i * options.chunkLayerNames, (i + 1) * options.chunkLayerNames),
        );
      }
    } else {
      strings(mw, 'layer_names', layerNames);
    }
    for (const name of layerNames) {
      const g = mw.create_group(name);
      const nested = options.nested?.get(name);
      if (nested) {
        strings(
          g,
          'weight_names',
          nested.flatMap((n) => n.arrays.map((a) => `${n.layer}/${a.name}`)),
        );
        for (const n of nested) {
          const inner = g.create_group(n.layer);
          for (const a of n.arrays) inner.create_dataset({ name: a.name, data: a.data, shape: a.shape, dtype: '<f' });
        }
        continue;
      }
      const arrays = weights.get(name) ?? [];
      const bare = options.weightNames === 'bare';
      strings(
        g,
        'weight_names',
        arrays.map((a) => (bare ? a.name.replace(':0', '') : `${name}/${a.name}`)),
      );
      const target = arrays.length && !bare ? g.create_group(name) : g;
      for (const a of arrays)
        target.create_dataset({
          name: bare ? a.name.replace(':0', '') : a.name,
          data: a.data,
          shape: a.shape,
          dtype: '<f',
        });
    }
  } finally {
    f.close();
  }
}

/**
 * A Keras 3 weights file (model.weights.h5 / .weights.h5): /layers/<key>/vars/<i>, optionally with the name
 * attribute.
 */
export async function writeKeras3WeightsH5(
  path: string,
  layers: { key: string; name: string; arrays: LayerWeights }[],
  withNames: boolean,
): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  try {
    const root = f.create_group('layers');
    for (const l of layers) {
      const vars = root.create_group(l.key).create_group('vars');
      if (withNames) vars.create_attribute('name', l.name);
      l.arrays.forEach((a, i) => vars.create_dataset({ name: String(i), data: a.data, shape: a.shape, dtype: '<f' }));
    }
    f.create_group('optimizer').create_group('vars');
    f.create_group('vars');
  } finally {
    f.close();
  }
}
