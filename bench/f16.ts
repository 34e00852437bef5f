// `npm run bench -- f16`: the peers' work with f32 weights and with f16 weights (ModelOptions.f16Weights),
// in one process: warm medians, weight memory, and the error f16 weights cost against the f32 outputs.
import type { GpuContext } from '../src/gpu/context.js';
import { Model } from '../src/graph/model.js';
import { randomArray } from '../src/random.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { selectWork } from './peer-work.js';
import { diskFiles, generateFiles } from './peers.js';
import { sample, stats, type Stats } from './stats.js';

export interface F16Row {
  work: string;
  f32: Stats;
  f16: Stats;
  f32WeightBytes: number;
  f16WeightBytes: number;
  /** max |f16 − f32| / max |f32| over all outputs. */
  error: number;
}

async function timed(
  model: Model,
  x: Float32Array,
  batch: number,
  runs: number,
): Promise<{ stats: Stats; outputs: Float32Array[] }> {
  const outputs = (await model.run(x, { batch })).outputs; // compile and warm up
  return {
    outputs,
    stats: stats(
      await sample(
        async () => {
          const t0 = performance.now();
          await model.run(x, { batch });
          return performance.now() - t0;
        },
        runs,
        0,
        runs,
      ),
    ),
  };
}

export async function benchF16(ctx: GpuContext, filter?: string): Promise<F16Row[]> {
  if (!ctx.device.features.has('shader-f16'))
    throw new Error(`this adapter (${ctx.description}) has no shader-f16: nothing to compare`);
  const rows: F16Row[] = [];
  const work = selectWork(filter);
  await generateFiles(work);
  for (const w of work) {
    const graph = await w.graph(diskFiles);
    const x = randomArray(w.batch * w.input.reduce((a, b) => a * b, 1), 9);
    const f32Model = await Model.create(ctx, graph);
    const f32 = await timed(f32Model, x, w.batch, w.runs);
    const f32WeightBytes = f32Model.weightBytes;
    f32Model.dispose();
    const f16Model = await Model.create(ctx, graph, { f16Weights: true });
    const f16 = await timed(f16Model, x, w.batch, w.runs);
    const f16WeightBytes = f16Model.weightBytes;
    f16Model.dispose();
    let diff = 0,
      scale = 0;
    f32.outputs.forEach((o, i) =>
      o.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - f16.outputs[i][j]));
        scale = Math.max(scale, Math.abs(v));
      }),
    );
    rows.push({
      work: w.name,
      f32: f32.stats,
      f16: f16.stats,
      f32WeightBytes,
      f16WeightBytes,
      error: diff / (scale || 1),
    });
    console.log(`  ${w.name}: f32 ${fmt(f32.stats.median, 1)} ms, f16 weights ${fmt(f16.stats.median, 1)} ms`);
  }
  console.log(
    `\n${formatTable(
      ['work', 'f32 ms', 'f16 weights ms', 'f32 / f16', 'weights MB f32', 'f16', 'max |f16 − f32| / max |f32|'],
      rows.map((r) => [
        r.work,
        fmt(r.f32.median, 1),
        fmt(r.f16.median, 1),
        `${fmt(r.f32.median / r.f16.median, 2)}×`,
        fmt(r.f32WeightBytes / 2 ** 20, 1),
        fmt(r.f16WeightBytes / 2 ** 20, 1),
        r.error.toExponential(1),
      ]),
    )}`,
  );
  console.log(
    'Warm medians including readback. ' +
      'f16 weights: conv and dense weights stored as f16 and read into f32; sums and activations stay f32.',
  );
  return rows;
}
