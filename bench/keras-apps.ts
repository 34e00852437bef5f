// Full-size keras.applications graphs for the benchmarks, from Keras's own configs (assets/keras-apps/)
// with seeded random weights (He-scaled kernels, batch-norm statistics near what their inputs give), so
// that no weight file is shipped: ResNet50, MobileNetV2, EfficientNetB0 and DenseNet121 at 224×224.
import type { WeightedGraph } from '../src/graph/ir.js';
import { buildKerasGraph } from '../src/io/keras.js';
import type { KerasModelSpec } from '../src/io/keras-config.js';
import type { Float32Dataset } from '../src/io/hdf5.js';
import { parseModelConfig } from '../src/io/keras-config.js';
import { rng } from '../src/random.js';

/** Output channels of every layer, following the config (the input has 3). */
function channels(spec: KerasModelSpec): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of spec.layers) {
    const c = l.config;
    const first = out.get(l.inbound[0]) ?? 3;
    const n =
      l.className === 'Conv2D'
        ? (c.filters as number)
        : l.className === 'Dense'
          ? (c.units as number)
          : l.className === 'DepthwiseConv2D'
            ? first * ((c.depth_multiplier as number) ?? 1)
            : l.className === 'Concatenate'
              ? l.inbound.reduce((s, i) => s + out.get(i)!, 0)
              : first;
    out.set(l.name, n);
  }
  return out;
}

/** Seeded weights in Keras order for every weighted layer. */
function randomWeights(spec: KerasModelSpec, seed: number): Map<string, Float32Dataset[]> {
  const next = rng(seed);
  const uniform = (n: number, lo: number, hi: number) =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
  const ch = channels(spec);
  const w = new Map<string, Float32Dataset[]>();
  for (const l of spec.layers) {
    const c = l.config,
      cin = ch.get(l.inbound[0]) ?? 3,
      cout = ch.get(l.name)!;
    const bias = c.use_bias === false ? [] : [{ shape: [cout], data: uniform(cout, -0.05, 0.05) }];
    if (l.className === 'Conv2D' || l.className === 'DepthwiseConv2D') {
      const [kh, kw] = c.kernel_size as number[];
      const depthwise = l.className === 'DepthwiseConv2D';
      const fan = kh * kw * (depthwise ? 1 : cin),
        limit = Math.sqrt(3 / fan);
      const shape = depthwise ? [kh, kw, cin, cout / cin] : [kh, kw, cin, cout];
      w.set(l.name, [
        {
          shape,
          data: uniform(
            shape.reduce((a, b) => a * b),
            -limit,
            limit,
          ),
        },
        ...bias,
      ]);
    } else if (l.className === 'Dense') {
      const limit = Math.sqrt(3 / cin) * 0.1;
      w.set(l.name, [{ shape: [cin, cout], data: uniform(cin * cout, -limit, limit) }, ...bias]);
    } else if (l.className === 'BatchNormalization') {
      const arrays = [
        ...(c.scale === false ? [] : [uniform(cout, 0.8, 1.2)]),
        ...(c.center === false ? [] : [uniform(cout, -0.1, 0.1)]),
        uniform(cout, -0.1, 0.1),
        uniform(cout, 0.5, 1.5),
      ];
      w.set(
        l.name,
        arrays.map((data) => ({ shape: [cout], data })),
      );
    } else if (l.className === 'Normalization') {
      // EfficientNet's input statistics, near ImageNet's (mean and variance of the 0…1 pixels).
      w.set(l.name, [
        { shape: [cout], data: uniform(cout, 0.4, 0.5) },
        { shape: [cout], data: uniform(cout, 0.05, 0.08) },
      ]);
    }
  }
  return w;
}

/** A full-size application (with its ImageNet top) as a weighted graph at 224×224. */
const APPLICATIONS = {
  resnet50: () => import('../assets/keras-apps/resnet50.json'),
  mobilenet_v2: () => import('../assets/keras-apps/mobilenet_v2.json'),
  // Bench-only configs (scripts/keras-fixtures/app_architectures.py writes them too).
  efficientnet_b0: () => import('./keras-apps/efficientnet_b0.json'),
  densenet121: () => import('./keras-apps/densenet121.json'),
};

export async function applicationGraph(asset: keyof typeof APPLICATIONS, seed = 1): Promise<WeightedGraph> {
  const json = await APPLICATIONS[asset]();
  const spec = parseModelConfig(json.default as Record<string, unknown>, `${asset}.json`);
  return buildKerasGraph(spec, randomWeights(spec, seed), { name: asset });
}
