// `npm run bench -- train`: training a transfer-learning head on the GPU, ours against TF.js's
// model.fit (tfjs-layers on its WebGPU backend, on the same Dawn adapter, in the same process), with
// the same head, data, batch size, optimiser and validation set. Reports steps per second and the
// median epoch time (validation and the per-epoch metrics included for both; the first epoch, which
// compiles, is left out), and each side's final validation accuracy as a sanity check.
import { readFileSync } from 'node:fs';
import type { GpuContext } from '../src/gpu/context.js';
import { parseLabelNpy, toTargets } from '../src/train/labels.js';
import { trainHead, type LabelledSet } from '../src/train/trainer.js';
import { randomArray, rng } from '../src/random.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { loadTfWebgpu } from './tfjs-peer.js';

interface Case {
  name: string;
  train: LabelledSet;
  val: LabelledSet;
  inputs: number;
  hidden: number;
  classes: number;
  batch: number;
  epochs: number;
}

export interface TrainRow {
  name: string;
  steps: number;
  ours: { stepsPerSecond: number; msPerEpoch: number; valAccuracy: number };
  tfjs: { stepsPerSecond: number; msPerEpoch: number; valAccuracy: number };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** The committed fixture: Keras's codes of the generated shapes (test/fixtures/transfer). */
function fixtureCase(): Case {
  const dir = 'test/fixtures/transfer';
  const read = (f: string) => parseLabelNpy(new Uint8Array(readFileSync(`${dir}/${f}`)), f);
  const [x, y, vx, vy] = ['codes_train.npy', 'labels_train.npy', 'codes_val.npy', 'labels_val.npy'].map(read);
  const t = toTargets(y),
    vt = toTargets(vy, t.classes);
  return {
    name: `fixture codes ${x.shape[0]}×${x.shape[1]} → 256 → ${t.classes}`,
    inputs: x.shape[1],
    hidden: 256,
    classes: t.classes,
    batch: 32,
    epochs: 12,
    train: { features: x.data, targets: t.targets, rows: t.rows },
    val: { features: vx.data, targets: vt.targets, rows: vt.rows },
  };
}

/** VGG16 fc1-sized codes (4096 features), 10 classes in clusters: a head the size real transfer learning trains. */
function fc1Case(rows: number): Case {
  const inputs = 4096,
    classes = 10;
  const make = (n: number, seed: number): LabelledSet => {
    const next = rng(seed),
      centres = randomArray(classes * inputs, 7);
    const features = new Float32Array(n * inputs),
      targets = new Float32Array(n * classes);
    for (let r = 0; r < n; r++) {
      const c = Math.floor(next() * classes);
      for (let k = 0; k < inputs; k++)
        features[r * inputs + k] = Math.max(0, centres[c * inputs + k] + 1.5 * (2 * next() - 1));
      targets[r * classes + c] = 1;
    }
    return { features, targets, rows: n };
  };
  return {
    name: `fc1-sized codes ${rows}×4096 → 256 → 10`,
    inputs,
    hidden: 256,
    classes,
    batch: 32,
    epochs: 6,
    train: make(rows, 1),
    val: make(rows / 4, 2),
  };
}

async function ours(ctx: GpuContext, c: Case) {
  const r = await trainHead(ctx, c.train, {
    spec: { inputs: c.inputs, hidden: [c.hidden], dropout: 0.5, classes: c.classes, output: 'softmax' },
    epochs: c.epochs,
    batchSize: c.batch,
    optimizer: { kind: 'adam' },
    seed: 1,
    validation: c.val,
  });
  const warm = r.history.slice(1).map((h) => h.ms);
  const ms = median(warm);
  return {
    stepsPerSecond: (r.history[0].steps * 1000) / ms,
    msPerEpoch: ms,
    valAccuracy: r.history[r.history.length - 1].valAccuracy!,
  };
}

async function tfjs(c: Case) {
  // The same Dawn instance kind as ours (webgpu's create), as the peers benchmark does it.
  const { create } = (await import(/* @vite-ignore */ 'webgpu')) as { create: (o: string[]) => GPU };
  const tf = await loadTfWebgpu(create([]));
  const tfl = await import('@tensorflow/tfjs-layers');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [c.inputs], units: c.hidden, activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: c.classes, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const x = tf.tensor2d(c.train.features, [c.train.rows, c.inputs]),
    y = tf.tensor2d(c.train.targets, [c.train.rows, c.classes]);
  const vx = tf.tensor2d(c.val.features, [c.val.rows, c.inputs]),
    vy = tf.tensor2d(c.val.targets, [c.val.rows, c.classes]);
  const times: number[] = [];
  let started = 0,
    valAccuracy = 0;
  await model.fit(x, y, {
    epochs: c.epochs,
    batchSize: c.batch,
    validationData: [vx, vy],
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochBegin: async () => {
        started = performance.now();
      },
      onEpochEnd: async (_e, logs) => {
        times.push(performance.now() - started);
        valAccuracy = Number(logs?.val_acc ?? logs?.val_accuracy ?? NaN);
      },
    },
  });
  tf.dispose([x, y, vx, vy]);
  model.dispose();
  const ms = median(times.slice(1));
  return { stepsPerSecond: (Math.ceil(c.train.rows / c.batch) * 1000) / ms, msPerEpoch: ms, valAccuracy };
}

export async function benchTrain(ctx: GpuContext, filter?: string): Promise<TrainRow[]> {
  const cases = [fixtureCase(), fc1Case(2000)].filter((c) => !filter || c.name.includes(filter));
  const rows: TrainRow[] = [];
  for (const c of cases) {
    const o = await ours(ctx, c);
    const t = await tfjs(c);
    rows.push({ name: c.name, steps: Math.ceil(c.train.rows / c.batch), ours: o, tfjs: t });
  }
  console.log(
    formatTable(
      [
        'head, Adam, batch 32, dropout 0.5',
        'steps/epoch',
        'ours steps/s',
        'ours ms/epoch',
        'TF.js fit steps/s',
        'TF.js ms/epoch',
        'TF.js / ours',
        'val acc ours / TF.js',
      ],
      rows.map((r) => [
        r.name,
        r.steps,
        fmt(r.ours.stepsPerSecond, 0),
        fmt(r.ours.msPerEpoch, 1),
        fmt(r.tfjs.stepsPerSecond, 0),
        fmt(r.tfjs.msPerEpoch, 1),
        `${fmt(r.tfjs.msPerEpoch / r.ours.msPerEpoch, 2)}×`,
        `${r.ours.valAccuracy.toFixed(3)} / ${r.tfjs.valAccuracy.toFixed(3)}`,
      ]),
    ),
  );
  return rows;
}
