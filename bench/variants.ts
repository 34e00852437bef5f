// `npm run bench -- variants`: times specialisation variants of the GEMM and conv kernels on this
// adapter, the raw material for choosing per-adapter defaults.
import * as ops from '../src/eager.js';
import type { GpuContext } from '../src/gpu/context.js';
import type { Conv2dVariant } from '../src/ops/conv2d.js';
import type { GemmVariant } from '../src/ops/gemm.js';
import { Tensor } from '../src/tensor.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { sample, stats } from './stats.js';

const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);

export const GEMM_VARIANTS: GemmVariant[] = [
  { tm: 4, tn: 4, wgX: 8, wgY: 8 }, { tm: 4, tn: 4, wgX: 16, wgY: 16 }, { tm: 8, tn: 4, wgX: 8, wgY: 8 },
  { tm: 4, tn: 8, wgX: 8, wgY: 8 }, { tm: 8, tn: 8, wgX: 8, wgY: 8 }, { tm: 2, tn: 8, wgX: 16, wgY: 4 },
  { tm: 8, tn: 8, wgX: 16, wgY: 16 },
  { kind: 'vec4', tm: 4, tn: 1, wgX: 8, wgY: 8 }, { kind: 'vec4', tm: 8, tn: 2, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 1, wgX: 8, wgY: 8 }, { kind: 'vec4', tm: 4, tn: 2, wgX: 16, wgY: 4 },
  { kind: 'tiled', tm: 4, tn: 4, wgX: 16, wgY: 16, tk: 16 }, { kind: 'tiled', tm: 8, tn: 8, wgX: 8, wgY: 8, tk: 8 },
];

export async function benchVariants(ctx: GpuContext): Promise<void> {
  const rows: (string | number)[][] = [];
  const m = 1024, k = 1024, n = 1024;
  const a = Tensor.fromArray(ctx, rand(m * k), [m, k]);
  const w = ops.GemmWeight.upload(ctx, rand(k * n), k, n);
  for (const v of GEMM_VARIANTS) {
    const run = async () => { const t0 = performance.now(); const y = await ops.gemm(a, w, null, undefined, { variant: v }); await y.read(); y.dispose(); return performance.now() - t0; };
    await run();
    const s = stats(await sample(run, 3, 1000, 10));
    rows.push([`gemm ${m}³`, `${v.kind ?? 'register'} TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}${v.tk ? ` TK${v.tk}` : ''}`, fmt(s.median), fmt((2 * m * k * n) / s.median / 1e6)]);
    console.log(rows[rows.length - 1].join('  '));
  }
  a.dispose(); w.dispose();
  const x = Tensor.fromArray(ctx, rand(56 * 56 * 256), [1, 56, 56, 256]);
  const cw = Tensor.fromArray(ctx, rand(9 * 256 * 256), [3, 3, 256, 256]);
  for (const v of GEMM_VARIANTS.filter((g) => !g.kind) as Conv2dVariant[]) {
    const run = async () => { const t0 = performance.now(); const y = await ops.conv2d(x, cw, null, { padding: 'same' }, { variant: v }); await y.read(); y.dispose(); return performance.now() - t0; };
    await run();
    const s = stats(await sample(run, 3, 1000, 10));
    rows.push(['conv 56×56×256→256 3×3', `TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}`, fmt(s.median), fmt((2 * 56 * 56 * 256 * 256 * 9) / s.median / 1e6)]);
    console.log(rows[rows.length - 1].join('  '));
  }
  x.dispose(); cw.dispose();
  console.log('\n' + formatTable(['case', 'variant', 'wall median ms', 'GFLOP/s'], rows));
}
