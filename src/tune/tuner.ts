// The per-adapter tuner: for each tuning class a model's lowerings name (GEMM by rows/columns, batched
// Winograd GEMM, implicit-GEMM conv by kernel/stride/width), time the candidate tile variants on that
// model's own layer shape, keep the fastest, and cache the table keyed by the adapter (a JSON file in Node,
// localStorage in browsers). Lowerings consult it through DeviceCaps.tuned. Runtime code: Model loaders
// call it with `tune: true`, and `webgpu-cnn tune` from the command line.
import * as ops from '../eager.js';
import type { GpuContext } from '../gpu/context.js';
import type { TileVariant } from '../gpu/dispatch.js';
import { loadTuning, saveTuning, type TuningTable } from '../gpu/tuning-cache.js';
import type { Graph } from '../graph/ir.js';
import { lowerGraph } from '../graph/plan.js';
import { defaultConv2dVariant } from '../ops/conv2d.js';
import { defaultGemmVariant } from '../ops/gemm.js';
import type { TuningCase } from '../ops/lowering.js';
import { randomArray } from '../random.js';
import { Tensor } from '../tensor.js';

export type { TuningTable, TuningCase };

export interface TuneResult {
  key: string;
  chosen: TileVariant;
  ms: number;
  defaultMs: number;
}

const REGISTER: TileVariant[] = [
  { tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { tm: 8, tn: 16, wgX: 8, wgY: 8 },
  { tm: 4, tn: 8, wgX: 8, wgY: 8 },
  { tm: 8, tn: 4, wgX: 8, wgY: 8 },
  { tm: 4, tn: 4, wgX: 8, wgY: 8 },
  // Lanes along the pixels only, weights uniform across a workgroup: few channels (see defaultConv2dVariant).
  { tm: 8, tn: 8, wgX: 1, wgY: 64 },
];
const GEMM: TileVariant[] = [
  ...REGISTER,
  { kind: 'vec4', tm: 8, tn: 2, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 4, wgX: 8, wgY: 8 },
  // Workgroup-memory tiling: slow on CPU adapters, usually the winner on real GPUs.
  { kind: 'tiled', tm: 4, tn: 4, wgX: 16, wgY: 16, tk: 16 },
  { kind: 'tiled', tm: 8, tn: 8, wgX: 8, wgY: 8, tk: 8 },
];
/** A shared by subgroup broadcast: only where the device has subgroups of ≥ 8 lanes. */
const SUBGROUP: TileVariant[] = [
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 8, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 1, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 16, wgY: 1 },
];
const GEMV: TileVariant[] = [
  { tm: 1, tn: 4, wgX: 64, wgY: 1 },
  { tm: 1, tn: 8, wgX: 32, wgY: 1 },
  { tm: 1, tn: 2, wgX: 64, wgY: 1 },
  { kind: 'vec4', tm: 1, tn: 1, wgX: 64, wgY: 1 },
];

export function candidatesFor(key: string, maxInvocations: number, subgroupMinSize = 0): TileVariant[] {
  const subgroup = subgroupMinSize >= 8 && key.endsWith('4') ? SUBGROUP : []; // classes with whole column quads
  // conv classes do not record oc % 4; the planner falls back from the subgroup kind where it does not fit.
  const convSubgroup = subgroupMinSize >= 8 ? SUBGROUP : [];
  const list = key.startsWith('conv2d')
    ? [...REGISTER, ...convSubgroup]
    : key.startsWith('gemm-batched')
      ? [...REGISTER, ...subgroup]
      : key.includes(' mV ')
        ? GEMV
        : [...GEMM, ...subgroup];
  return list.filter((v) => v.wgX * v.wgY <= maxInvocations);
}

/** The tuning classes of a graph's lowerings at `batch`, each with its first layer's problem. */
export function tuneCasesForGraph(graph: Graph, caps: GpuContext['caps'], batch = 1): TuningCase[] {
  const cases = new Map<string, TuningCase>();
  for (const { lowering } of lowerGraph(graph, batch, caps).steps) {
    if (lowering?.tuning && !cases.has(lowering.tuning.key)) cases.set(lowering.tuning.key, lowering.tuning);
  }
  return [...cases.values()];
}

async function timeVariant(run: () => Promise<Tensor>): Promise<number> {
  (await run()).dispose(); // compile and warm up
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const y = await run();
    await y.read();
    times.push(performance.now() - t0);
    y.dispose();
  }
  return times.sort((a, b) => a - b)[1];
}

/** Times every candidate of every case; returns the fastest per class (and what the default took). */
export async function tune(
  ctx: GpuContext,
  cases: TuningCase[],
  log: (line: string) => void = () => {},
): Promise<TuneResult[]> {
  const results: TuneResult[] = [];
  for (const c of cases) {
    let run: (v: TileVariant) => Promise<Tensor>;
    const owned: { dispose(): void }[] = [];
    let fallback: TileVariant;
    if (c.problem.kind === 'gemm') {
      // A batched (Winograd) class is timed as one of its products: the variants rank the same.
      const { m, k, n } = c.problem;
      const a = Tensor.fromArray(ctx, randomArray(m * k, 1), [m, k]);
      const w = ops.GemmWeight.upload(ctx, randomArray(k * n, 2), k, n);
      owned.push(a, w);
      run = (v) => ops.gemm(a, w, null, undefined, { variant: v });
      fallback = defaultGemmVariant(m, n, ctx.caps, k);
    } else {
      const { x: xs, w: ws, stride, padding } = c.problem;
      const x = Tensor.fromArray(
        ctx,
        randomArray(
          xs.reduce((p, q) => p * q, 1),
          3,
        ),
        xs,
      );
      const w = Tensor.fromArray(
        ctx,
        randomArray(
          ws.reduce((p, q) => p * q, 1),
          4,
        ),
        ws,
      );
      owned.push(x, w);
      run = (v) => ops.conv2d(x, w, null, { strides: [stride, stride], padding }, { variant: v });
      fallback = defaultConv2dVariant(1, ws[3], ctx.caps);
    }
    try {
      let best: { v: TileVariant; ms: number } | undefined;
      let defaultMs = NaN;
      for (const v of candidatesFor(c.key, ctx.caps.maxInvocationsPerWorkgroup, ctx.caps.subgroupMinSize)) {
        const ms = await timeVariant(() => run(v));
        if (JSON.stringify(v) === JSON.stringify(fallback)) defaultMs = ms;
        if (!best || ms < best.ms) best = { v, ms };
      }
      if (Number.isNaN(defaultMs)) defaultMs = await timeVariant(() => run(fallback));
      results.push({ key: c.key, chosen: best!.v, ms: best!.ms, defaultMs });
      log(`${c.key}: ${describe(best!.v)} ${best!.ms.toFixed(1)} ms (default ${defaultMs.toFixed(1)} ms)`);
    } finally {
      owned.forEach((o) => o.dispose());
    }
  }
  return results;
}

export function describe(v: TileVariant): string {
  return `${v.kind ?? 'register'} TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}${v.tk ? ` TK${v.tk}` : ''}`;
}

/** Tunes the classes of `graph` this adapter has no choice for yet, caches them, and starts using them. */
export async function tuneGraph(ctx: GpuContext, graph: Graph, log?: (line: string) => void): Promise<TuneResult[]> {
  const known = { ...(await loadTuning(ctx.description)), ...ctx.caps.tuned };
  const missing = tuneCasesForGraph(graph, ctx.caps).filter((c) => !known[c.key]);
  const results = await tune(ctx, missing, log);
  const table = Object.fromEntries(results.map((r) => [r.key, r.chosen]));
  if (results.length) await saveTuning(ctx.description, table);
  ctx.useTuning({ ...known, ...table });
  return results;
}
