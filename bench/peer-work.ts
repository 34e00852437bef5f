// The work of `npm run bench -- --peers` and how one row is measured, shared by the Node run (bench/peers.ts)
// and the page of `--peers --browser` (bench/browser/peers-page.ts): no Node module here.
import type { GpuContext } from '../src/gpu/context.js';
import { weighted, type WeightedGraph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { optimize } from '../src/graph/passes.js';
import { buildDarknet } from '../src/io/darknet/network.js';
import { loadKerasGraph } from '../src/io/keras.js';
import type { ByteSource } from '../src/io/source.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { randomArray } from '../src/random.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { CFGS, generatedPath, type DarknetCfg, type GeneratedFile } from './generated-files.js';
import { applicationGraph } from './keras-apps.js';
import { sample, stats, type Stats } from './stats.js';

/** How a row reaches its files: from disk in Node, over HTTP in a page (scripts/test-browser.mjs serves the repo). */
export interface BenchFiles {
  text(path: string): Promise<string>;
  bytes(path: string): Promise<Uint8Array>;
  /** What the Keras loader opens: the path in Node (read lazily), the fetched bytes in a page. */
  source(path: string): Promise<ByteSource>;
}

export interface Work {
  name: string;
  graph: (files: BenchFiles) => Promise<WeightedGraph>;
  /** Weight files the row reads that Node generates once (before a page can fetch them). */
  generated?: GeneratedFile[];
  input: number[];
  batch: number;
  /**
   * Timed runs after one warm-up, for every framework. The rows under 100 ms take 10–15: on a shared
   * 2-core machine single runs swing ±30%, and a median of 5 moved those rows' ratios by a fifth.
   */
  runs: number;
}

function denseGraph(k: number, n: number): WeightedGraph {
  return weighted({
    name: 'matmul',
    inputs: ['a'],
    outputs: ['c'],
    nodes: [
      { name: 'a', op: { kind: 'input', shape: [k] }, inputs: [] },
      {
        name: 'c',
        op: { kind: 'dense', units: n },
        inputs: ['a'],
        weights: { kernel: randomArray(k * n, 2), bias: new Float32Array(n) },
      },
    ],
  });
}

function convBnLeakyGraph(): WeightedGraph {
  const c = 256,
    oc = 512;
  return weighted({
    name: 'conv',
    inputs: ['x'],
    outputs: ['act'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [52, 52, c] }, inputs: [] },
      {
        name: 'conv',
        op: { kind: 'conv2d', kernelShape: [3, 3, c, oc], attrs: { padding: 'same' } },
        inputs: ['x'],
        weights: { kernel: randomArray(9 * c * oc, 3).map((v) => v * 0.05) },
      },
      {
        name: 'bn',
        op: { kind: 'batchnorm', axis: -1, epsilon: 1e-5, channels: oc },
        inputs: ['conv'],
        weights: {
          gamma: randomArray(oc, 4),
          beta: randomArray(oc, 5),
          mean: randomArray(oc, 6),
          variance: randomArray(oc, 7).map((v) => Math.abs(v) + 0.5),
        },
      },
      { name: 'act', op: { kind: 'activation', activation: { kind: 'leaky', alpha: 0.1 } }, inputs: ['bn'] },
    ],
  });
}

const darknet = (cfg: string, weightsFile: string, size: number) => async (files: BenchFiles) => {
  const { graph, weights } = buildDarknet(
    await files.text(cfg),
    cfg,
    { bytes: await files.bytes(weightsFile), file: weightsFile },
    [size, size],
  );
  return { graph, weights };
};

const generatedDarknet = (cfg: DarknetCfg, size: number) => ({
  graph: darknet(CFGS[cfg], generatedPath(cfg), size),
  generated: [cfg],
});

export const WORK: Work[] = [
  { name: 'matmul 1024³', graph: async () => denseGraph(1024, 1024), input: [1024], batch: 1024, runs: 10 },
  {
    name: 'conv 3×3 256→512 + BN + leaky, 52×52',
    graph: async () => convBnLeakyGraph(),
    input: [52, 52, 256],
    batch: 1,
    runs: 5,
  },
  {
    name: 'VGG16 224×224',
    graph: async (files) =>
      loadKerasGraph(await files.source(generatedPath('vgg16')), { architecture: vgg16Architecture() }),
    generated: ['vgg16'],
    input: [224, 224, 3],
    batch: 1,
    runs: 3,
  },
  { name: 'ResNet50 224×224', graph: () => applicationGraph('resnet50'), input: [224, 224, 3], batch: 1, runs: 3 },
  {
    name: 'MobileNetV2 224×224',
    graph: () => applicationGraph('mobilenet_v2'),
    input: [224, 224, 3],
    batch: 1,
    runs: 15,
  },
  {
    name: 'EfficientNetB0 224×224',
    graph: () => applicationGraph('efficientnet_b0'),
    input: [224, 224, 3],
    batch: 1,
    runs: 15,
  },
  {
    name: 'DenseNet121 224×224',
    graph: () => applicationGraph('densenet121'),
    input: [224, 224, 3],
    batch: 1,
    runs: 3,
  },
  {
    name: 'YOLOv3 416',
    ...generatedDarknet('yolov3.cfg', 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 3,
  },
  {
    name: 'YOLOv4 416',
    ...generatedDarknet('yolov4.cfg', 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 3,
  },
  {
    name: 'yolov3-tiny 416',
    ...generatedDarknet('yolov3-tiny.cfg', 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 5,
  },
  {
    name: 'yolov4-tiny 416',
    ...generatedDarknet('yolov4-tiny.cfg', 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 5,
  },
  {
    name: 'Yolo-Fastest 320',
    graph: darknet('assets/darknet/yolo-fastest-1.1.cfg', 'assets/darknet/yolo-fastest-1.1.weights', 320),
    input: [320, 320, 3],
    batch: 1,
    runs: 10,
  },
];

/** One peer's result on one row. */
export interface PeerResult {
  stats?: Stats;
  /** peer median / our median. */
  ratio?: number;
  /** max |ours − peer| / max |peer| over all outputs. */
  agreement?: number;
  /** max |peer| (so that an agreement of 0 on all-zero outputs cannot pass unnoticed). */
  scale?: number;
  error?: string;
}

export interface PeerRow {
  work: string;
  ours: Stats;
  /** Our arithmetic rate at the median: the plan's multiply-adds as a direct computation counts them. */
  gflops: number;
  /** Our slowest layers in one profiled run (each layer in its own pass, so they sum above the wall time). */
  slowest: { layer: string; kernels: string[]; ms: number }[];
  peers: Partial<Record<PeerName, PeerResult>>;
}

/** Layers listed per row in `slowest`. */
const SLOWEST_SHOWN = 5;

async function slowestLayers(model: Model, x: Float32Array, batch: number): Promise<PeerRow['slowest']> {
  const { timings } = await model.run(x, { batch, profile: true });
  return (timings ?? [])
    .map((t) => ({ layer: t.fused.join('+') || t.name, kernels: t.kernels, ms: t.ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST_SHOWN);
}

export type Runner = { run(x: Float32Array, batch: number): Promise<Float32Array[]>; dispose(): unknown };
export type PeerName = 'tfjs' | 'ort' | 'native';
export interface Peer {
  name: PeerName;
  label: string;
  open(graph: WeightedGraph): Promise<Runner>;
}

export const PEER_LABELS: Record<PeerName, string> = {
  tfjs: 'TF.js WebGPU',
  ort: 'ORT-Web WebGPU',
  native: 'ORT-Node CPU (native)',
};

async function timed(fn: () => Promise<unknown>, runs: number): Promise<Stats> {
  await fn(); // compile and warm up
  return stats(
    await sample(
      async () => {
        const t0 = performance.now();
        await fn();
        return performance.now() - t0;
      },
      runs,
      0,
      runs,
    ),
  );
}

async function runPeer(
  peer: Peer,
  graph: WeightedGraph,
  w: Work,
  x: Float32Array,
  ours: Float32Array[],
  oursMedian: number,
): Promise<PeerResult> {
  try {
    const runner = await peer.open(graph);
    try {
      const result: PeerResult = { stats: await timed(() => runner.run(x, w.batch), w.runs) };
      const theirs = await runner.run(x, w.batch);
      let diff = 0,
        scale = 0;
      ours.forEach((o, i) =>
        o.forEach((v, j) => {
          diff = Math.max(diff, Math.abs(v - theirs[i][j]));
          scale = Math.max(scale, Math.abs(theirs[i][j]));
        }),
      );
      return { ...result, agreement: diff / (scale || 1), scale, ratio: result.stats!.median / oursMedian };
    } finally {
      await runner.dispose();
    }
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

/** One row: ours, then each peer on the optimized graph (the same weights), with the outputs compared. */
export async function measureRow(ctx: GpuContext, w: Work, files: BenchFiles, peers: Peer[]): Promise<PeerRow> {
  const graph = await w.graph(files);
  const x = randomArray(w.batch * w.input.reduce((a, b) => a * b, 1), 9);
  const model = await Model.create(ctx, graph);
  let row: PeerRow, ours: Float32Array[];
  try {
    const stats = await timed(() => model.run(x, { batch: w.batch }), w.runs);
    row = {
      work: w.name,
      ours: stats,
      gflops: model.flops(w.batch) / stats.median / 1e6,
      slowest: await slowestLayers(model, x, w.batch),
      peers: {},
    };
    ours = (await model.run(x, { batch: w.batch })).outputs;
  } finally {
    model.dispose();
  }
  const optimized = optimize(graph);
  for (const peer of peers) row.peers[peer.name] = await runPeer(peer, optimized, w, x, ours, row.ours.median);
  return row;
}

/** The rows whose name contains `filter` (any case), or one of its comma-separated words. */
export function selectWork(filter?: string): Work[] {
  const words = (filter ?? '').toLowerCase().split(',').filter(Boolean);
  return WORK.filter((w) => !words.length || words.some((word) => w.name.toLowerCase().includes(word)));
}

/** A row's one-line summary as it finishes. */
export function rowSummary(row: PeerRow, peers: readonly Pick<Peer, 'name' | 'label'>[]): string {
  const theirs = peers.map((p) => {
    const r = row.peers[p.name]!;
    return `, ${p.label} ${r.stats ? `${fmt(r.stats.median, 1)} ms` : `failed (${r.error})`}`;
  });
  const slowest = row.slowest.map((l) => `${l.layer} ${fmt(l.ms, 2)} ms`).join(', ');
  const line = `  ${row.work}: ours ${fmt(row.ours.median, 1)} ms${theirs.join('')}`;
  return `${line}\n    ${fmt(row.gflops, 1)} GFLOP/s; slowest layers: ${slowest}`;
}

/** The rows as a console table. */
export function peerTable(rows: PeerRow[], names: readonly PeerName[]): string {
  return formatTable(
    [
      'work',
      'ours median ms',
      'p10',
      'p90',
      'GFLOP/s',
      ...names.flatMap((n) => [`${PEER_LABELS[n]} ms`, 'peer / ours', 'max |diff| / max |out|']),
    ],
    rows.map((r) => [
      r.work,
      fmt(r.ours.median, 1),
      fmt(r.ours.p10, 1),
      fmt(r.ours.p90, 1),
      fmt(r.gflops, 1),
      ...names.flatMap((n) => peerCells(r.peers[n])),
    ]),
  );
}

/** A peer's cells for one row: its median, the ratio and the agreement. */
export function peerCells(r: PeerResult | undefined): string[] {
  if (!r) return ['–', '–', '–'];
  if (!r.stats) return [`– (${r.error})`, '–', '–'];
  return [
    fmt(r.stats.median, 1),
    `${fmt(r.ratio!, 2)}×`,
    `${r.agreement!.toExponential(1)} of ${r.scale!.toExponential(1)}`,
  ];
}
