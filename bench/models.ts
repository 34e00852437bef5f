// `npm run bench -- vgg16`: a full-size VGG16 forward pass at 224×224 from a weight file in Keras's
// layout (generated once with deterministic weights into bench/.cache/, since the real file is not
// shipped): load, compile, first run and warm median (p10/p90) at batch 1, 2 and 4 (images/s: the
// batch scaling), GFLOP/s, per-layer
// GPU times, and peak GPU memory.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import type { GpuContext } from '../src/gpu/context.js';
import type { Model } from '../src/graph/model.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { chainWeights, writeLegacyWeightsH5 } from '../test/keras-writer.js';
import { randomArray } from '../test/harness.js';
import { CACHE, generatedPath } from './generated-files.js';
import { sample, stats, type Stats } from './stats.js';

export async function vgg16WeightsFile(): Promise<string> {
  const file = generatedPath('vgg16');
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  console.log(`writing ${file} (138M parameters, once)…`);
  const spec = vgg16Architecture();
  await writeLegacyWeightsH5(`${file}.tmp`, spec, chainWeights(spec, [224, 224, 3], 300));
  renameSync(`${file}.tmp`, file);
  return file;
}

export interface BatchResult {
  batch: number;
  compileMs: number;
  firstMs: number;
  warm: Stats;
  gflops: number;
  peakBytes: number;
}

async function timeRun(model: Model, x: Float32Array): Promise<number> {
  const t0 = performance.now();
  await model.predict(x);
  return performance.now() - t0;
}

export async function benchVgg16(ctx: GpuContext): Promise<object> {
  const file = await vgg16WeightsFile();
  const t0 = performance.now();
  const { model } = await loadKerasModel(file, { ctx });
  const loadMs = performance.now() - t0;
  try {
    const batches: BatchResult[] = [];
    for (const batch of [1, 2, 4]) {
      const x = randomArray(batch * 224 * 224 * 3, batch, -120, 120);
      const firstMs = await timeRun(model, x);
      const warm = stats(await sample(() => timeRun(model, x), 5, 0, 5));
      const mem = model.memory(batch);
      const r = {
        batch,
        compileMs: model.compileMs(batch)!,
        firstMs,
        warm,
        gflops: model.flops(batch) / warm.median / 1e6,
        peakBytes: mem.peakBytes,
      };
      batches.push(r);
      console.log(`  batch ${batch}: first ${fmt(firstMs, 0)} ms, warm median ${fmt(warm.median, 0)} ms`);
    }
    const profiled = await model.run(randomArray(224 * 224 * 3, 9, -120, 120), { profile: true });
    const layers = profiled.timings ?? [];
    const gpuTotal = layers.reduce((s, l) => s + l.ms, 0);
    console.log(
      `\nVGG16 224×224 (${(model.flops(1) / 1e9).toFixed(2)} GFLOP per image), ` +
        `load + upload + compile ${fmt(loadMs, 0)} ms`,
    );
    console.log(
      formatTable(
        ['batch', 'compile ms', 'first run ms', 'warm median ms', 'p10', 'p90', 'images/s', 'GFLOP/s', 'peak GPU MB'],
        batches.map((b) => [
          b.batch,
          fmt(b.compileMs, 0),
          fmt(b.firstMs, 0),
          fmt(b.warm.median, 0),
          fmt(b.warm.p10, 0),
          fmt(b.warm.p90, 0),
          fmt((1000 * b.batch) / b.warm.median, 2),
          fmt(b.gflops),
          fmt(b.peakBytes / 2 ** 20, 0),
        ]),
      ),
    );
    if (layers.length) {
      console.log(`\nper-layer GPU time, batch 1 (timestamp queries; ${fmt(gpuTotal, 0)} ms in all):`);
      console.log(
        formatTable(
          ['layer', 'kernels', 'ms', '%'],
          layers.map((l) => [l.fused.join('+'), l.kernels.join(', '), fmt(l.ms), fmt((100 * l.ms) / gpuTotal, 1)]),
        ),
      );
    }
    // Dense layers at batch 1 are bound by reading their weights: GB/s of weights read.
    const dense = layers.flatMap((l) => {
      const node = model.graph.nodes.find((n) => n.name === l.name);
      if (node?.op.kind !== 'dense' || !node.op.inFeatures) return [];
      const bytes = 4 * node.op.inFeatures * node.op.units;
      return [{ layer: l.name, kernels: l.kernels, ms: l.ms, weightMB: bytes / 1e6, gbPerS: bytes / l.ms / 1e6 }];
    });
    if (dense.length) {
      console.log('\ndense layers, batch 1 (f32 weights read once):');
      console.log(
        formatTable(
          ['layer', 'kernels', 'weights MB', 'ms', 'GB/s'],
          dense.map((d) => [d.layer, d.kernels.join(', '), fmt(d.weightMB, 0), fmt(d.ms), fmt(d.gbPerS)]),
        ),
      );
    }
    const mem = model.memory(1);
    const mb = (bytes: number, digits: number) => fmt(bytes / 2 ** 20, digits);
    const bound = 1.15 * (mem.weightBytes + mem.largestActivations[0] + mem.largestActivations[1]);
    console.log(
      `\nGPU memory, batch 1: weights ${mb(mem.weightBytes, 0)} MB + activations ${mb(mem.activationBytes, 1)} MB ` +
        `+ io ${mb(mem.ioBytes, 1)} MB = ${mb(mem.peakBytes, 0)} MB ` +
        `(bound 1.15 × (weights + two largest activations) = ${mb(bound, 0)} MB)`,
    );
    return { model: 'vgg16', input: [224, 224, 3], loadMs, batches, layers, dense, memory: mem };
  } finally {
    model.dispose();
  }
}
