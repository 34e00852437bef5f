// `webgpu-cnn kernels`: prints the adapter and runs every kernel once on small inputs, with times.
import { GpuContext } from '../gpu/context.js';
import { opCases, setupCase } from './op-cases.js';
import { fmt, formatTable } from './table.js';

export async function runKernelsOnce(log: (s: string) => void = console.log): Promise<void> {
  const ctx = await GpuContext.create();
  try {
    log(`WebGPU adapter: ${ctx.description}`);
    const bindingMiB = (ctx.caps.maxStorageBindingBytes / 2 ** 20).toFixed(0);
    log(`timestamp queries: ${ctx.hasTimestamps ? 'yes' : 'no'}; max storage binding: ${bindingMiB} MiB\n`);
    const rows: (string | number)[][] = [];
    for (const c of opCases('small')) {
      const op = setupCase(ctx, c.spec);
      let gpuMs: number | undefined;
      let kernels: string[] = [];
      const t0 = performance.now();
      const y = await op.run({
        onTiming: (t) => (gpuMs = t.reduce((s, k) => s + k.ms, 0)),
        onKernels: (k) => (kernels = k),
      });
      await y.read();
      const wall = performance.now() - t0;
      y.dispose();
      op.dispose();
      rows.push([
        [...new Set(kernels)].join(', '),
        c.name,
        fmt(gpuMs, 3),
        fmt(wall, 1),
        c.flops ? fmt(gpuMs ? c.flops / gpuMs / 1e6 : undefined, 2) : '–',
      ]);
    }
    log(formatTable(['kernel', 'case', 'GPU ms', 'wall ms (incl. compile)', 'GFLOP/s'], rows));
  } finally {
    ctx.dispose();
  }
}
