// `npm run bench -- ops`: every kernel case at full size — median time (wall, including readback,
// and GPU timestamps when available), GFLOP/s and GB/s — as a table and as JSON.
import type { GpuContext } from '../src/gpu/context.js';
import { opCases, setupCase } from '../src/tools/op-cases.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { sample, stats, wallMs, type Stats } from './stats.js';

export interface OpResult {
  name: string;
  kernel: string;
  flops: number;
  bytes: number;
  wall: Stats;
  gpu?: Stats;
  gflops: number;
  gbps: number;
}

export async function benchOps(ctx: GpuContext, filter?: string): Promise<OpResult[]> {
  const results: OpResult[] = [];
  for (const c of opCases('full').filter((c) => !filter || c.name.includes(filter) || c.spec.kind.includes(filter))) {
    const op = setupCase(ctx, c.spec);
    let kernels: string[] = [];
    (await op.run({ onKernels: (k) => (kernels = k) })).dispose(); // compile and warm up
    const gpuSamples: number[] = [];
    const onTiming = ctx.hasTimestamps
      ? (t: { ms: number }[]) => gpuSamples.push(t.reduce((s, k) => s + k.ms, 0))
      : undefined;
    const wall = await sample(() => wallMs(() => op.run({ onTiming })));
    op.dispose();
    const gpu = gpuSamples.length ? stats(gpuSamples) : undefined;
    const best = gpu?.median ?? stats(wall).median;
    const r: OpResult = {
      name: c.name,
      kernel: [...new Set(kernels)].join(', '),
      flops: c.flops,
      bytes: c.bytes,
      wall: stats(wall),
      gpu,
      gflops: c.flops / best / 1e6,
      gbps: c.bytes / best / 1e6,
    };
    results.push(r);
    console.log(
      `  ${c.name}: ${fmt(r.wall.median, 2)} ms wall, ${fmt(gpu?.median, 2)} ms GPU, ${fmt(r.gflops, 2)} GFLOP/s`,
    );
  }
  console.log(
    `\n${formatTable(
      ['kernel', 'case', 'wall median ms', 'p10', 'p90', 'GPU median ms', 'GFLOP/s', 'GB/s'],
      results.map((r) => [
        r.kernel,
        r.name,
        fmt(r.wall.median),
        fmt(r.wall.p10),
        fmt(r.wall.p90),
        fmt(r.gpu?.median),
        r.flops ? fmt(r.gflops) : '–',
        fmt(r.gbps),
      ]),
    )}`,
  );
  console.log(
    'GFLOP/s and GB/s use the GPU timestamp median when the adapter has timestamps, ' +
      'else the wall median (which includes readback).',
  );
  return results;
}
