// `npm run bench -- --peers`: the same work, with identical weights, through webgpu-cnn and through
// TensorFlow.js's WebGPU backend, in one process on the same adapter. Each row: warm medians
// including readback, the ratio TF.js / ours, and how closely the outputs agree.
import { readFileSync } from 'node:fs';
import { buildDarknet } from '../src/darknet/network.js';
import type { GpuContext } from '../src/gpu/context.js';
import type { Graph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { optimize } from '../src/graph/passes.js';
import { loadKerasGraph } from '../src/io/keras.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { pseudoRandom } from '../src/tools/op-cases.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { vgg16WeightsFile } from './models.js';
import { sample, stats, type Stats } from './stats.js';
import { loadTfWebgpu, tfGraph } from './tfjs-peer.js';
import { generatedWeights } from './yolo.js';

interface Work {
  name: string;
  graph: () => Promise<Graph>;
  input: number[];
  batch: number;
  runs: number;
}

function denseGraph(m: number, k: number, n: number): Graph {
  return {
    name: 'matmul', inputs: ['a'], outputs: ['c'],
    nodes: [
      { name: 'a', op: { kind: 'input', shape: [k] }, inputs: [] },
      { name: 'c', op: { kind: 'dense', units: n, weights: pseudoRandom(k * n, 2), bias: new Float32Array(n) }, inputs: ['a'] },
    ],
  };
}

function convBnLeakyGraph(): Graph {
  const c = 256, oc = 512;
  return {
    name: 'conv', inputs: ['x'], outputs: ['act'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [52, 52, c] }, inputs: [] },
      { name: 'conv', op: { kind: 'conv2d', weights: pseudoRandom(9 * c * oc, 3).map((v) => v * 0.05), shape: [3, 3, c, oc], attrs: { padding: 'same' } }, inputs: ['x'] },
      { name: 'bn', op: { kind: 'batchnorm', axis: -1, params: { gamma: pseudoRandom(oc, 4), beta: pseudoRandom(oc, 5), mean: pseudoRandom(oc, 6), variance: pseudoRandom(oc, 7).map((v) => Math.abs(v) + 0.5), epsilon: 1e-5 } }, inputs: ['conv'] },
      { name: 'act', op: { kind: 'activation', activation: { kind: 'leaky', alpha: 0.1 } }, inputs: ['bn'] },
    ],
  };
}

const darknet = (cfg: string, weights: () => string, size: number) => async () => {
  const w = weights();
  return buildDarknet(readFileSync(cfg, 'utf8'), cfg, { bytes: new Uint8Array(readFileSync(w)), file: w }, [size, size]).graph;
};

const WORK: Work[] = [
  { name: 'matmul 1024³', graph: async () => denseGraph(1024, 1024, 1024), input: [1024], batch: 1024, runs: 10 },
  { name: 'conv 3×3 256→512 + BN + leaky, 52×52', graph: async () => convBnLeakyGraph(), input: [52, 52, 256], batch: 1, runs: 5 },
  { name: 'VGG16 224×224', graph: async () => (await loadKerasGraph(await vgg16WeightsFile(), { architecture: vgg16Architecture() })).graph, input: [224, 224, 3], batch: 1, runs: 3 },
  { name: 'YOLOv3 416', graph: darknet('assets/darknet/yolov3.cfg', () => generatedWeights('yolov3.cfg'), 416), input: [416, 416, 3], batch: 1, runs: 3 },
  { name: 'yolov3-tiny 416', graph: darknet('assets/darknet/yolov3-tiny.cfg', () => generatedWeights('yolov3-tiny.cfg'), 416), input: [416, 416, 3], batch: 1, runs: 5 },
  { name: 'Yolo-Fastest 320', graph: darknet('assets/darknet/yolo-fastest-1.1.cfg', () => 'assets/darknet/yolo-fastest-1.1.weights', 320), input: [320, 320, 3], batch: 1, runs: 10 },
];

export interface PeerRow {
  work: string;
  ours: Stats;
  tfjs?: Stats;
  ratio?: number;
  /** max |ours − tfjs| / max |tfjs| over all outputs. */
  agreement?: number;
  /** max |tfjs| (so that an agreement of 0 on all-zero outputs cannot pass unnoticed). */
  scale?: number;
  error?: string;
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<Stats> {
  await fn(); // compile and warm up
  return stats(await sample(async () => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  }, runs, 0, runs));
}

export async function benchPeers(ctx: GpuContext, filter?: string): Promise<PeerRow[]> {
  const { create } = (await import(/* @vite-ignore */ 'webgpu')) as { create: (o: string[]) => GPU };
  const tf = await loadTfWebgpu(create([]));
  console.log(`TF.js ${tf.version_core} on backend '${tf.getBackend()}'\n`);
  const rows: PeerRow[] = [];
  for (const w of WORK.filter((x) => !filter || x.name.toLowerCase().includes(filter.toLowerCase()))) {
    const graph = await w.graph();
    const x = pseudoRandom(w.batch * w.input.reduce((a, b) => a * b, 1), 9);
    const model = await Model.create(ctx, graph);
    const row: PeerRow = { work: w.name, ours: await timed(() => model.run(x, { batch: w.batch }), w.runs) };
    const ours = (await model.run(x, { batch: w.batch })).outputs;
    model.dispose();
    try {
      const peer = tfGraph(tf, optimize(graph));
      try {
        row.tfjs = await timed(() => peer.run(x, w.batch), w.runs);
        const theirs = await peer.run(x, w.batch);
        let diff = 0, scale = 0;
        ours.forEach((o, i) => o.forEach((v, j) => {
          diff = Math.max(diff, Math.abs(v - theirs[i][j]));
          scale = Math.max(scale, Math.abs(theirs[i][j]));
        }));
        row.agreement = diff / (scale || 1);
        row.scale = scale;
        row.ratio = row.tfjs.median / row.ours.median;
      } finally {
        peer.dispose();
      }
    } catch (e) {
      row.error = (e as Error).message.split('\n')[0];
    }
    rows.push(row);
    console.log(`  ${w.name}: ours ${fmt(row.ours.median, 1)} ms, TF.js ${fmt(row.tfjs?.median, 1)} ms${row.error ? ` (${row.error})` : ''}`);
  }
  console.log('\n' + formatTable(
    ['work', 'ours median ms', 'p10', 'p90', 'TF.js WebGPU ms', 'TF.js / ours', 'max |out|', 'max |diff| / max |out|'],
    rows.map((r) => [r.work, fmt(r.ours.median, 1), fmt(r.ours.p10, 1), fmt(r.ours.p90, 1), r.tfjs ? fmt(r.tfjs.median, 1) : `– (${r.error})`, r.ratio ? `${fmt(r.ratio, 2)}×` : '–', r.scale?.toExponential(2) ?? '–', r.agreement !== undefined ? r.agreement.toExponential(1) : '–']),
  ));
  console.log('Warm medians including readback, same process, same adapter, identical weights. ONNX Runtime Web is not run: it needs ONNX files of these models, which nothing here can export offline.');
  return rows;
}
