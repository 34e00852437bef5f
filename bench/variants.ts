// `npm run bench -- variants`: times specialisation variants of the GEMM and conv kernels on this
// adapter, the raw material for choosing per-adapter defaults.
import * as ops from '../src/eager.js';
import type { GpuContext } from '../src/gpu/context.js';
import type { Conv2dVariant } from '../src/ops/conv2d.js';
import type { GemmVariant } from '../src/ops/gemm.js';
import { Tensor } from '../src/tensor.js';
import { randomArray } from '../src/random.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { sample, stats, wallMs } from './stats.js';

export const GEMM_VARIANTS: GemmVariant[] = [
  { tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { tm: 4, tn: 4, wgX: 16, wgY: 16 },
  { tm: 8, tn: 4, wgX: 8, wgY: 8 },
  { tm: 4, tn: 8, wgX: 8, wgY: 8 },
  { tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { tm: 2, tn: 8, wgX: 16, wgY: 4 },
  { tm: 8, tn: 8, wgX: 16, wgY: 16 },
  // One row of lanes (WG_Y = 1): the A/x rows are the same for every lane, so CPU adapters can load them once.
  { tm: 8, tn: 1, wgX: 64, wgY: 1 },
  { tm: 8, tn: 2, wgX: 64, wgY: 1 },
  { tm: 4, tn: 2, wgX: 64, wgY: 1 },
  { tm: 16, tn: 1, wgX: 64, wgY: 1 },
  { tm: 8, tn: 4, wgX: 32, wgY: 1 },
  { tm: 12, tn: 1, wgX: 64, wgY: 1 },
  // Bigger register tiles.
  { tm: 16, tn: 8, wgX: 8, wgY: 8 },
  { tm: 8, tn: 16, wgX: 8, wgY: 8 },
  { tm: 16, tn: 16, wgX: 8, wgY: 8 },
  { tm: 16, tn: 8, wgX: 8, wgY: 4 },
  { tm: 12, tn: 8, wgX: 8, wgY: 8 },
  { tm: 8, tn: 12, wgX: 8, wgY: 8 },
  { tm: 4, tn: 16, wgX: 8, wgY: 8 },
  { tm: 8, tn: 24, wgX: 8, wgY: 8 },
  { tm: 8, tn: 32, wgX: 8, wgY: 8 },
  { tm: 4, tn: 32, wgX: 8, wgY: 8 },
  { tm: 8, tn: 16, wgX: 16, wgY: 4 },
  { tm: 8, tn: 16, wgX: 4, wgY: 16 },
  { tm: 6, tn: 16, wgX: 8, wgY: 8 },
  { tm: 8, tn: 16, wgX: 8, wgY: 4 },
  { kind: 'vec4', tm: 8, tn: 4, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 3, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 12, tn: 2, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 4, tn: 1, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 2, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 1, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 4, tn: 2, wgX: 16, wgY: 4 },
  { kind: 'tiled', tm: 4, tn: 4, wgX: 16, wgY: 16, tk: 16 },
  { kind: 'tiled', tm: 8, tn: 8, wgX: 8, wgY: 8, tk: 8 },
  // A shared across a subgroup by broadcast (adapters with subgroups of ≥ 8 lanes).
  { kind: 'subgroup', tm: 8, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 4, wgX: 32, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 16, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 3, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 24, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 6, wgX: 8, wgY: 1 },
];

const label = (v: GemmVariant) =>
  `${v.kind ?? 'register'} TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}${v.tk ? ` TK${v.tk}` : ''}`;

export async function benchVariants(ctx: GpuContext, filter?: string): Promise<void> {
  const rows: (string | number)[][] = [];
  const time = async (name: string, v: GemmVariant, flops: number, run: () => Promise<Tensor>) => {
    await wallMs(run); // compile and warm up
    const s = stats(await sample(() => wallMs(run), 3, 1000, 10));
    rows.push([name, label(v), fmt(s.median), fmt(flops / s.median / 1e6)]);
    console.log(rows[rows.length - 1].join('  '));
  };
  const m = 1024,
    k = 1024,
    n = 1024;
  const a = Tensor.fromArray(ctx, randomArray(m * k, 1), [m, k]);
  const w = ops.GemmWeight.upload(ctx, randomArray(k * n, 2), k, n);
  const chosen = GEMM_VARIANTS.filter((v) => !filter || label(v).includes(filter));
  for (const v of chosen)
    await time(`gemm ${m}³`, v, 2 * m * k * n, () => ops.gemm(a, w, null, undefined, { variant: v }));
  a.dispose();
  w.dispose();
  // conv2d has register-blocked variants only.
  const x = Tensor.fromArray(ctx, randomArray(56 * 56 * 256, 3), [1, 56, 56, 256]);
  const cw = Tensor.fromArray(ctx, randomArray(9 * 256 * 256, 4), [3, 3, 256, 256]);
  for (const v of chosen.filter((g) => !g.kind) as Conv2dVariant[]) {
    await time('conv 56×56×256→256 3×3', v, 2 * 56 * 56 * 256 * 256 * 9, () =>
      ops.conv2d(x, cw, null, { padding: 'same' }, { variant: v }),
    );
  }
  x.dispose();
  cw.dispose();
  console.log(`\n${formatTable(['case', 'variant', 'wall median ms', 'GFLOP/s'], rows)}`);
}
