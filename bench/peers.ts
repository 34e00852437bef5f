// `npm run bench -- --peers`: the same work, with identical weights, through webgpu-cnn, through
// TensorFlow.js's WebGPU backend and through ONNX Runtime Web's WebGPU provider, in one process on
// the same adapter, and through ONNX Runtime for Node's native CPU provider (no adapter at all).
// Each row: warm medians including readback, the ratio peer / ours, and how closely the outputs agree.
import { readFileSync } from 'node:fs';
import { buildDarknet } from '../src/io/darknet/network.js';
import type { GpuContext } from '../src/gpu/context.js';
import { weighted, type WeightedGraph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { optimize } from '../src/graph/passes.js';
import { loadKerasGraph } from '../src/io/keras.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { randomArray } from '../src/random.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { applicationGraph } from './keras-apps.js';
import { vgg16WeightsFile } from './models.js';
import { sample, stats, type Stats } from './stats.js';
import { loadOrtNative, ortNativeGraph } from './ort-native-peer.js';
import { loadOrtWebgpu, ortGraph } from './ort-peer.js';
import { loadTfWebgpu, tfGraph } from './tfjs-peer.js';
import { CFGS, generatedWeights } from './yolo.js';

export interface Work {
  name: string;
  graph: () => Promise<WeightedGraph>;
  input: number[];
  batch: number;
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

const darknet = (cfg: string, weightsFile: () => string, size: number) => async () => {
  const w = weightsFile();
  const { graph, weights } = buildDarknet(
    readFileSync(cfg, 'utf8'),
    cfg,
    { bytes: new Uint8Array(readFileSync(w)), file: w },
    [size, size],
  );
  return { graph, weights };
};

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
    graph: async () => loadKerasGraph(await vgg16WeightsFile(), { architecture: vgg16Architecture() }),
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
    runs: 5,
  },
  {
    name: 'EfficientNetB0 224×224',
    graph: () => applicationGraph('efficientnet_b0'),
    input: [224, 224, 3],
    batch: 1,
    runs: 5,
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
    graph: darknet(CFGS['yolov3.cfg'], () => generatedWeights('yolov3.cfg'), 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 3,
  },
  {
    name: 'YOLOv4 416',
    graph: darknet(CFGS['yolov4.cfg'], () => generatedWeights('yolov4.cfg'), 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 3,
  },
  {
    name: 'yolov3-tiny 416',
    graph: darknet(CFGS['yolov3-tiny.cfg'], () => generatedWeights('yolov3-tiny.cfg'), 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 5,
  },
  {
    name: 'yolov4-tiny 416',
    graph: darknet(CFGS['yolov4-tiny.cfg'], () => generatedWeights('yolov4-tiny.cfg'), 416),
    input: [416, 416, 3],
    batch: 1,
    runs: 5,
  },
  {
    name: 'Yolo-Fastest 320',
    graph: darknet('assets/darknet/yolo-fastest-1.1.cfg', () => 'assets/darknet/yolo-fastest-1.1.weights', 320),
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
  peers: Partial<Record<PeerName, PeerResult>>;
}

type Runner = { run(x: Float32Array, batch: number): Promise<Float32Array[]>; dispose(): unknown };
type PeerName = 'tfjs' | 'ort' | 'native';
interface Peer {
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

async function loadPeers(only?: PeerName): Promise<Peer[]> {
  const { create } = (await import(/* @vite-ignore */ 'webgpu')) as { create: (o: string[]) => GPU };
  const gpu = create([]);
  const peers: Peer[] = [];
  if (!only || only === 'tfjs') {
    const tf = await loadTfWebgpu(gpu);
    console.log(`TF.js ${tf.version_core} on backend '${tf.getBackend()}'`);
    peers.push({ name: 'tfjs', label: PEER_LABELS.tfjs, open: async (g) => tfGraph(tf, g) });
  }
  if (!only || only === 'ort') {
    const ort = await loadOrtWebgpu(gpu);
    console.log(`ONNX Runtime Web ${ort.env.versions.web} with the webgpu execution provider`);
    peers.push({ name: 'ort', label: PEER_LABELS.ort, open: (g) => ortGraph(ort, g) });
  }
  if (!only || only === 'native') {
    const ort = await loadOrtNative();
    console.log(`ONNX Runtime for Node ${ort.env.versions.node ?? ''} with the cpu execution provider`);
    peers.push({ name: 'native', label: PEER_LABELS.native, open: (g) => ortNativeGraph(ort, g) });
  }
  console.log('');
  return peers;
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

/** `only` restricts the run to one peer ('tfjs' or 'ort'). */
export async function benchPeers(ctx: GpuContext, filter?: string, only?: string): Promise<PeerRow[]> {
  if (only && !(only in PEER_LABELS))
    throw new Error(`unknown peer '${only}' (available: ${Object.keys(PEER_LABELS).join(', ')})`);
  const peers = await loadPeers(only as PeerName | undefined);
  const rows: PeerRow[] = [];
  for (const w of WORK.filter((x) => !filter || x.name.toLowerCase().includes(filter.toLowerCase()))) {
    const graph = await w.graph();
    const x = randomArray(w.batch * w.input.reduce((a, b) => a * b, 1), 9);
    const model = await Model.create(ctx, graph);
    const row: PeerRow = { work: w.name, ours: await timed(() => model.run(x, { batch: w.batch }), w.runs), peers: {} };
    const ours = (await model.run(x, { batch: w.batch })).outputs;
    model.dispose();
    const optimized = optimize(graph);
    for (const peer of peers) row.peers[peer.name] = await runPeer(peer, optimized, w, x, ours, row.ours.median);
    rows.push(row);
    console.log(
      `  ${w.name}: ours ${fmt(row.ours.median, 1)} ms${peers
        .map((p) => {
          const r = row.peers[p.name]!;
          return `, ${p.label} ${r.stats ? `${fmt(r.stats.median, 1)} ms` : `failed (${r.error})`}`;
        })
        .join('')}`,
    );
  }
  const names = peers.map((p) => p.name);
  console.log(
    `\n${formatTable(
      [
        'work',
        'ours median ms',
        'p10',
        'p90',
        ...names.flatMap((n) => [`${PEER_LABELS[n]} ms`, 'peer / ours', 'max |diff| / max |out|']),
      ],
      rows.map((r) => [
        r.work,
        fmt(r.ours.median, 1),
        fmt(r.ours.p10, 1),
        fmt(r.ours.p90, 1),
        ...names.flatMap((n) => peerCells(r.peers[n])),
      ]),
    )}`,
  );
  console.log(
    'Warm medians including readback, same process, same adapter, identical weights ' +
      '(the optimized graph; ONNX Runtime gets it as an ONNX file).',
  );
  return rows;
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
