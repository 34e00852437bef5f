// Training a head on the GPU: the data set, every activation, gradient, weight and optimiser state
// stay in GPU buffers; each mini-batch step is one recorded Program (gather the batch in this epoch's
// shuffled order, forward, loss, backward, one optimiser update over the flat weights) and one submit.
// Only the per-row loss and correctness of each epoch come back, once per epoch, for the metrics,
// early stopping on validation loss and the choice of the best epoch (whose weights are kept on the
// GPU by a buffer copy and restored at the end, as Keras's EarlyStopping(restore_best_weights) does).
import { TensorTooLargeError, UsageError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { rng } from '../random.js';
import { checkHeadSpec, flatLayout, flatten, initHead, unflatten, type HeadSpec, type HeadWeights } from './head.js';
import {
  biasGradDispatch,
  denseDispatch,
  dropoutDispatch,
  gatherDispatch,
  gemmAtDispatch,
  lossDispatch,
  reluBackwardDispatch,
} from './kernels.js';
import { optimizerDispatch, resolveOptimizer, stateBuffers, type OptimizerConfig } from './optimizer.js';
import { Program, type Slice } from './program.js';
import { trunkBackward, trunkCodeLength, trunkForward, trunkShapes, type Trunk, type TrunkLaunch } from './trunk.js';

/** Rows of features with their targets: one-hot rows (softmax) or 0/1 per output (sigmoid). */
export interface LabelledSet {
  features: Float32Array;
  targets: Float32Array;
  rows: number;
}

export interface TrainOptions {
  spec: HeadSpec;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Seeds the initial weights, the shuffles and the dropout masks: the same seed, the same run. */
  seed: number;
  validation?: LabelledSet;
  /** Stop after this many epochs without a lower validation loss (needs `validation`). */
  patience?: number;
  /** Keep the weights of the epoch with the lowest validation loss (default true with `validation`). */
  restoreBest?: boolean;
  /** Start from these weights instead of a fresh glorot_uniform head. */
  initial?: HeadWeights;
  /**
   * Fine-tune a base's last block with the head: the features are then that block's input (the frozen
   * part's output, [rows, ...trunk.input]) and the head reads the trunk's code (src/train/trunk.ts).
   */
  trunk?: Trunk;
  /** Shuffle the rows every epoch (default true, as Keras's fit). */
  shuffle?: boolean;
  /** After each epoch, with its metrics (a progress bar, a live loss curve); may be async. */
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
}

export interface EpochMetrics {
  /** From 1. */
  epoch: number;
  /** Means over the epoch's rows, as Keras's fit reports them (dropout active, weights moving). */
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  steps: number;
  /** Wall time of the epoch, validation and the metrics' readback included. */
  ms: number;
}

export interface TrainResult {
  weights: HeadWeights;
  /** With `trunk`: its conv layers' trained kernels and biases, in order. */
  trunk?: { kernel: Float32Array; bias: Float32Array }[];
  history: EpochMetrics[];
  /** The epoch (from 1) whose weights were kept. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Training steps per second over the whole run, and the median epoch's time. */
  stepsPerSecond: number;
  msPerEpoch: number;
}

/** The seed of the dropout mask after hidden layer `layer` at optimiser step `step` (from 1). */
export function dropoutSeed(seed: number, step: number, layer: number): number {
  return (Math.imul(seed, 0x9e3779b1) + Math.imul(step, 0x85ebca6b) + Math.imul(layer, 0xc2b2ae35)) >>> 0;
}

/** The shuffle for one epoch (Fisher–Yates from the run's generator), or the identity. */
export function epochOrder(rows: number, next: (() => number) | undefined): Uint32Array {
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  if (!next) return order;
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The generator of a run's shuffles (apart from the weights' own generator, which is initHead's). */
export const shuffleGenerator = (seed: number) => rng((seed ^ 0x5bd1e995) >>> 0);

/** Values per row of features: the head's inputs, or the trunk's input map. */
const featureLength = (spec: HeadSpec, trunk?: Trunk) =>
  trunk ? trunk.input[0] * trunk.input[1] * trunk.input[2] : spec.inputs;

function checkSet(set: LabelledSet, spec: HeadSpec, what: string, trunk?: Trunk): void {
  if (set.rows < 1) throw new UsageError(`${what}: no rows`);
  const per = featureLength(spec, trunk);
  if (set.features.length !== set.rows * per) {
    throw new UsageError(`${what}: ${set.features.length} feature values for ${set.rows} rows of ${per}`);
  }
  if (set.targets.length !== set.rows * spec.classes) {
    throw new UsageError(
      `${what}: ${set.targets.length} target values for ${set.rows} rows of ${spec.classes} classes`,
    );
  }
}

const STORAGE = 0x80 | 0x4 | 0x8;

/** A dropout launch and the hidden layer whose mask it applies. */
interface Drop {
  launch: number;
  layer: number;
}

/** Trains a head on `train` (see TrainOptions); the result's weights are on the CPU, in Keras's layout. */
export async function trainHead(ctx: GpuContext, train: LabelledSet, options: TrainOptions): Promise<TrainResult> {
  const { spec } = options;
  checkHeadSpec(spec);
  if (options.trunk && trunkCodeLength(options.trunk) !== spec.inputs) {
    throw new UsageError(
      `the trunk gives codes of ${trunkCodeLength(options.trunk)} values; the head takes ${spec.inputs}`,
    );
  }
  checkSet(train, spec, 'training data', options.trunk);
  if (options.validation) checkSet(options.validation, spec, 'validation data', options.trunk);
  // The whole set is bound at once (each step gathers its rows from it).
  for (const [set, what] of [
    [train, 'training'],
    [options.validation, 'validation'],
  ] as const) {
    const bytes = set ? 4 * set.features.length : 0;
    if (bytes > ctx.caps.maxStorageBindingBytes) {
      throw new TensorTooLargeError(
        `the ${what} codes are ${(bytes / 2 ** 20).toFixed(0)} MiB, over the device's storage binding limit of ` +
          `${(ctx.caps.maxStorageBindingBytes / 2 ** 20).toFixed(0)} MiB: use fewer rows or shorter codes (pooling)`,
      );
    }
  }
  if (!(Number.isInteger(options.epochs) && options.epochs >= 1))
    throw new UsageError(`${options.epochs} is not a number of epochs`, '--epochs');
  if (!(Number.isInteger(options.batchSize) && options.batchSize >= 1))
    throw new UsageError(`${options.batchSize} is not a batch size`, '--batch');
  const session = new TrainingSession(ctx, spec, train, options);
  try {
    return await session.run();
  } finally {
    session.dispose();
  }
}

class TrainingSession {
  private readonly buffers: GPUBuffer[] = [];
  private readonly programs: Program[] = [];
  private readonly layout;
  private readonly opt;
  private readonly batch: number;
  private readonly b: Record<string, GPUBuffer> = {};
  private readonly hidden: { h: GPUBuffer; d?: GPUBuffer; dd: GPUBuffer; dh?: GPUBuffer; dz: GPUBuffer }[] = [];
  private readonly trunkRanges: { kernel: number; bias: number; kernelLength: number; biasLength: number }[];
  /** Floats in the flat weight buffer: the head's and the trunk's. */
  private readonly total: number;
  /** The trunk's per-batch buffers by name (see trunk.ts), 'in' being the gathered batch. */
  private readonly trunkBuffers = new Map<string, GPUBuffer>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly spec: HeadSpec,
    private readonly train: LabelledSet,
    private readonly options: TrainOptions,
  ) {
    this.layout = flatLayout(spec);
    // The trunk's kernels and biases go after the head's, 64-float aligned like them.
    let at = this.layout.total;
    const take = (n: number) => {
      const start = at;
      at += Math.ceil(n / 64) * 64;
      return start;
    };
    this.trunkRanges = (options.trunk?.weights ?? []).map((w) => ({
      kernel: take(w.kernel.length),
      bias: take(w.bias.length),
      kernelLength: w.kernel.length,
      biasLength: w.bias.length,
    }));
    this.total = at;
    this.opt = resolveOptimizer(options.optimizer);
    this.batch = Math.min(options.batchSize, train.rows);
  }

  private buffer(floats: number, label: string, data?: ArrayBufferView & { buffer: ArrayBufferLike }): GPUBuffer {
    const buf = this.ctx.createBuffer(4 * Math.max(1, floats), label, STORAGE);
    this.buffers.push(buf);
    if (data) this.ctx.device.queue.writeBuffer(buf, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private allocate(): void {
    const { spec, train, batch } = this;
    const val = this.options.validation;
    const initial = this.options.initial ?? initHead(spec, this.options.seed);
    const b = this.b;
    const per = featureLength(spec, this.options.trunk);
    b.x = this.buffer(train.rows * per, 'train features', train.features);
    b.t = this.buffer(train.rows * spec.classes, 'train targets', train.targets);
    b.order = this.buffer(train.rows, 'shuffle');
    b.stats = this.buffer(2 * train.rows, 'train stats');
    if (val) {
      b.vx = this.buffer(val.rows * per, 'validation features', val.features);
      b.vt = this.buffer(val.rows * spec.classes, 'validation targets', val.targets);
      b.vorder = this.buffer(
        val.rows,
        'validation order',
        Uint32Array.from({ length: val.rows }, (_, i) => i),
      );
      b.vstats = this.buffer(2 * val.rows, 'validation stats');
    }
    b.xb = this.buffer(batch * per, 'batch features');
    if (this.options.trunk) this.allocateTrunk(this.options.trunk);
    b.tb = this.buffer(batch * spec.classes, 'batch targets');
    for (const units of spec.hidden) {
      const n = batch * units;
      const drop = spec.dropout > 0;
      this.hidden.push({
        h: this.buffer(n, 'hidden'),
        d: drop ? this.buffer(n, 'dropped') : undefined,
        dd: this.buffer(n, 'hidden grad'),
        dh: drop ? this.buffer(n, 'dropout grad') : undefined,
        dz: this.buffer(n, 'relu grad'),
      });
    }
    b.z = this.buffer(batch * spec.classes, 'logits');
    b.dz = this.buffer(batch * spec.classes, 'logits grad');
    const total = this.total;
    const flat = new Float32Array(total);
    flat.set(flatten(initial, this.layout));
    this.options.trunk?.weights.forEach((w, i) => {
      flat.set(w.kernel, this.trunkRanges[i].kernel);
      flat.set(w.bias, this.trunkRanges[i].bias);
    });
    b.w = this.buffer(total, 'weights', flat);
    b.g = this.buffer(total, 'gradients', new Float32Array(total));
    b.best = this.buffer(total, 'best weights');
    for (let i = 0; i < stateBuffers(this.opt); i++)
      b[`s${i}`] = this.buffer(total, `optimizer state ${i}`, new Float32Array(total));
  }

  /** The trunk's per-batch buffers: each layer's output and its gradient (and after a ReLU), the code's. */
  private allocateTrunk(t: Trunk): void {
    const shapes = trunkShapes(t);
    const size = (s: readonly number[]) => this.batch * s[0] * s[1] * s[2];
    shapes.forEach((s, i) => {
      const name = t.layers[i].name;
      this.trunkBuffers.set(`act${i}`, this.buffer(size(s), `trunk ${name}`));
      this.trunkBuffers.set(`dact${i}`, this.buffer(size(s), `trunk ${name} grad`));
      if (t.layers[i].kind === 'conv') this.trunkBuffers.set(`dz${i}`, this.buffer(size(s), `trunk ${name} relu grad`));
    });
    const n = shapes.length - 1;
    if (t.pooling === 'flatten') {
      // The code is the last activation, and its gradient that activation's.
      this.trunkBuffers.set('code', this.trunkBuffers.get(`act${n}`)!);
      this.trunkBuffers.set('dcode', this.trunkBuffers.get(`dact${n}`)!);
    } else {
      this.trunkBuffers.set('code', this.buffer(this.batch * shapes[n][2], 'trunk code'));
      this.trunkBuffers.set('dcode', this.buffer(this.batch * shapes[n][2], 'trunk code grad'));
    }
  }

  private trunkBuffer(name: string): GPUBuffer {
    if (name === 'in') return this.b.xb;
    const b = this.trunkBuffers.get(name);
    if (!b) throw new Error(`trunk buffer '${name}' missing`);
    return b;
  }

  /**
   * A trunk name resolved: a buffer, conv i's kernel or bias range ('k{i}', 'b{i}') or its gradient ('gk{i}', 'gb{i}').
   */
  private slice(name: string): Slice {
    const m = /^(g?)([kb])(\d+)$/.exec(name);
    if (!m) return { buffer: this.trunkBuffer(name) };
    const r = this.trunkRanges[Number(m[3])];
    const buffer = m[1] ? this.b.g : this.b.w;
    return m[2] === 'k'
      ? { buffer, at: r.kernel, floats: r.kernelLength }
      : { buffer, at: r.bias, floats: r.biasLength };
  }

  private addTrunk(p: Program, l: TrunkLaunch): void {
    const weights = l.weights && Object.fromEntries(Object.entries(l.weights).map(([k, v]) => [k, this.slice(v)]));
    p.add(
      l.dispatch,
      l.inputs.map((n) => this.slice(n)),
      this.slice(l.output),
      weights,
    );
  }

  private weightSlice(layer: number, which: 'kernel' | 'bias', of = this.b.w): Slice {
    const l = this.layout.layers[layer];
    return { buffer: of, at: l[which], floats: which === 'kernel' ? l.inputs * l.units : l.units };
  }

  /** The forward pass over `m` rows gathered from (x, t, order) into the batch buffers; returns its dropouts. */
  private forward(
    p: Program,
    m: number,
    source: { x: GPUBuffer; t: GPUBuffer; order: GPUBuffer },
    training: boolean,
  ): Drop[] {
    const { spec, ctx } = this;
    const caps = ctx.caps;
    const trunk = this.options.trunk;
    p.add(gatherDispatch(m, featureLength(spec, trunk), 0, caps), [{ buffer: source.x }, { buffer: source.order }], {
      buffer: this.b.xb,
    });
    p.add(gatherDispatch(m, spec.classes, 0, caps), [{ buffer: source.t }, { buffer: source.order }], {
      buffer: this.b.tb,
    });
    const drops: Drop[] = [];
    if (trunk) for (const l of trunkForward(trunk, m, caps)) this.addTrunk(p, l);
    let a = trunk ? this.trunkBuffer('code') : this.b.xb,
      k = spec.inputs;
    spec.hidden.forEach((units, l) => {
      const hb = this.hidden[l];
      p.add(
        denseDispatch(m, k, units, { kind: 'relu' }, caps),
        [{ buffer: a }, this.weightSlice(l, 'kernel'), this.weightSlice(l, 'bias')],
        { buffer: hb.h },
      );
      a = hb.h;
      if (training && hb.d) {
        drops.push({
          launch: p.add(dropoutDispatch(m * units, spec.dropout, 0, caps), [{ buffer: hb.h }], { buffer: hb.d }),
          layer: l,
        });
        a = hb.d;
      }
      k = units;
    });
    const out = spec.hidden.length;
    p.add(
      denseDispatch(m, k, spec.classes, undefined, caps),
      [{ buffer: a }, this.weightSlice(out, 'kernel'), this.weightSlice(out, 'bias')],
      { buffer: this.b.z },
    );
    return drops;
  }

  /** Launch indices whose params change per step. */
  private trainProgram(m: number): {
    program: Program;
    gathers: number[];
    loss: number;
    drops: Drop[];
    update: number;
  } {
    const { spec, ctx, b } = this;
    const caps = ctx.caps;
    const p = new Program(ctx, `train step (${m} rows)`);
    this.programs.push(p);
    const drops = this.forward(p, m, { x: b.x, t: b.t, order: b.order }, true);
    const loss = p.add(
      lossDispatch(m, spec.classes, 0, spec.output, true, caps),
      [{ buffer: b.z }, { buffer: b.tb }, { buffer: b.stats }],
      { buffer: b.dz },
    );
    // Backward, output layer first: each layer's weight and bias gradients into the flat gradient buffer.
    let g = b.dz;
    for (let j = spec.hidden.length; j >= 0; j--) {
      const l = this.layout.layers[j];
      const first = this.options.trunk ? this.trunkBuffer('code') : b.xb;
      const input = j === 0 ? first : (this.hidden[j - 1].d ?? this.hidden[j - 1].h);
      p.add(
        gemmAtDispatch(m, l.inputs, l.units, caps),
        [{ buffer: input }, { buffer: g }],
        this.weightSlice(j, 'kernel', b.g),
      );
      p.add(biasGradDispatch(m, l.units, caps), [{ buffer: g }], this.weightSlice(j, 'bias', b.g));
      if (j === 0 && this.options.trunk) {
        // Into the trunk: the code's gradient, then the block's own backward pass.
        const w = this.weightSlice(0, 'kernel');
        p.add(denseDispatch(m, l.units, l.inputs, undefined, caps, true), [{ buffer: g }, w], {
          buffer: this.trunkBuffer('dcode'),
        });
        const kernels = {
          relu: (t: number) => reluBackwardDispatch(t, caps),
          biasGrad: (r: number, n: number) => biasGradDispatch(r, n, caps),
        };
        for (const launch of trunkBackward(this.options.trunk, m, caps, kernels)) this.addTrunk(p, launch);
      }
      if (j === 0) break;
      const hb = this.hidden[j - 1];
      const w = this.weightSlice(j, 'kernel');
      p.add(denseDispatch(m, l.units, l.inputs, undefined, caps, true), [{ buffer: g }, w], { buffer: hb.dd });
      let dy = hb.dd;
      if (hb.dh) {
        // The same seed as this layer's forward mask: dropout's derivative is the same mask and scale.
        drops.push({
          launch: p.add(dropoutDispatch(m * l.inputs, spec.dropout, 0, caps), [{ buffer: hb.dd }], { buffer: hb.dh }),
          layer: j - 1,
        });
        dy = hb.dh;
      }
      p.add(reluBackwardDispatch(m * l.inputs, caps), [{ buffer: hb.h }, { buffer: dy }], { buffer: hb.dz });
      g = hb.dz;
    }
    const states = Array.from({ length: stateBuffers(this.opt) }, (_, i) => ({ buffer: b[`s${i}`] }));
    // The optimiser updates in place: every binding is an input.
    const update = p.add(
      optimizerDispatch(this.opt, this.total, 1, caps),
      [{ buffer: b.g }, { buffer: b.w }, ...states],
      { buffer: b.w },
    );
    return { program: p, gathers: [0, 1], loss, drops, update };
  }

  private evalProgram(m: number): { program: Program; gathers: number[]; loss: number } {
    const { spec, ctx, b } = this;
    const p = new Program(ctx, `validation (${m} rows)`);
    this.programs.push(p);
    this.forward(p, m, { x: b.vx, t: b.vt, order: b.vorder }, false);
    const loss = p.add(
      lossDispatch(m, spec.classes, 0, spec.output, false, ctx.caps),
      [{ buffer: b.z }, { buffer: b.tb }, { buffer: b.vstats }],
      { buffer: b.dz },
    );
    return { program: p, gathers: [0, 1], loss };
  }

  private setOffset(p: Program, launches: number[], offset: number): void {
    for (const i of launches) p.setParams(i, { ...p.params(i), offset });
  }

  async run(): Promise<TrainResult> {
    const { ctx, train, batch, options } = this;
    this.allocate();
    const full = this.trainProgram(batch);
    const lastRows = train.rows % batch;
    const last = lastRows ? this.trainProgram(lastRows) : undefined;
    const val = options.validation;
    const vBatch = val ? Math.min(batch, val.rows) : 0;
    const evalFull = val ? this.evalProgram(vBatch) : undefined;
    const evalLast = val && val.rows % vBatch ? this.evalProgram(val.rows % vBatch) : undefined;
    await Promise.all(this.programs.map((p) => p.build()));

    const shuffle = options.shuffle === false ? undefined : shuffleGenerator(options.seed);
    const history: EpochMetrics[] = [];
    const restoreBest = !!val && options.restoreBest !== false;
    let best = Infinity,
      bestEpoch = 0,
      wait = 0,
      step = 0,
      stoppedEarly = false,
      trainMs = 0;
    const steps = Math.ceil(train.rows / batch);
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = epochOrder(train.rows, shuffle);
      ctx.device.queue.writeBuffer(this.b.order, 0, order.buffer, order.byteOffset, order.byteLength);
      // Inside error scopes: a validation failure in any step surfaces here, naming itself.
      await ctx.scoped(() => {
        for (let s = 0; s < steps; s++) {
          step++;
          const run = s === steps - 1 && last ? last : full;
          const p = run.program;
          this.setOffset(p, run.gathers, s * batch);
          this.setOffset(p, [run.loss], s * batch);
          for (const d of run.drops)
            p.setParams(d.launch, { ...p.params(d.launch), seed: dropoutSeed(options.seed, step, d.layer) });
          p.setParams(run.update, optimizerDispatch(this.opt, this.total, step, ctx.caps).params);
          this.submit(p);
        }
        if (val && evalFull) {
          for (let off = 0; off < val.rows; off += vBatch) {
            const run = off + vBatch > val.rows && evalLast ? evalLast : evalFull;
            this.setOffset(run.program, [...run.gathers, run.loss], off);
            this.submit(run.program);
          }
        }
      });
      const [trainStats, valStats] = await Promise.all([
        ctx.readBuffer(this.b.stats, 8 * train.rows),
        val ? ctx.readBuffer(this.b.vstats, 8 * val.rows) : undefined,
      ]);
      const metrics: EpochMetrics = { epoch, ...means(trainStats), steps, ms: 0 };
      if (valStats) {
        const v = means(valStats);
        metrics.valLoss = v.loss;
        metrics.valAccuracy = v.accuracy;
      }
      if (!Number.isFinite(metrics.loss))
        throw new UsageError(
          `training diverged at epoch ${epoch} (loss ${metrics.loss}); lower the learning rate`,
          '--lr',
        );
      // Keras's EarlyStopping: a strictly lower validation loss is an improvement; after `patience`
      // epochs without one, stop; the best epoch's weights are restored at the end.
      if (metrics.valLoss !== undefined) {
        wait++;
        if (metrics.valLoss < best) {
          best = metrics.valLoss;
          bestEpoch = epoch;
          wait = 0;
          if (restoreBest) this.copy(this.b.w, this.b.best);
        }
      } else {
        bestEpoch = epoch;
      }
      metrics.ms = performance.now() - started;
      trainMs += metrics.ms;
      history.push(metrics);
      await options.onEpoch?.(metrics);
      if (options.patience !== undefined && val && wait >= options.patience && epoch > 1) {
        stoppedEarly = true;
        break;
      }
    }
    if (restoreBest && bestEpoch) this.copy(this.b.best, this.b.w);
    else bestEpoch = history.length;
    const flat = await ctx.readBuffer(this.b.w, 4 * this.total);
    const trunk = this.trunkRanges.map((r) => ({
      kernel: flat.slice(r.kernel, r.kernel + r.kernelLength),
      bias: flat.slice(r.bias, r.bias + r.biasLength),
    }));
    const times = history.map((h) => h.ms).sort((a, b) => a - b);
    return {
      weights: unflatten(flat, this.layout),
      ...(trunk.length ? { trunk } : {}),
      history,
      bestEpoch,
      stoppedEarly,
      stepsPerSecond: (steps * history.length) / (trainMs / 1000),
      msPerEpoch: times[Math.floor(times.length / 2)],
    };
  }

  private submit(p: Program): void {
    p.write();
    const encoder = this.ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    p.encode(pass);
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  private copy(from: GPUBuffer, to: GPUBuffer): void {
    const encoder = this.ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from, 0, to, 0, 4 * this.total);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  dispose(): void {
    this.programs.forEach((p) => p.dispose());
    this.buffers.forEach((b) => this.ctx.destroyBuffer(b));
  }
}

/** Mean loss and accuracy over (loss, correct) pairs, in float64. */
function means(stats: Float32Array): { loss: number; accuracy: number } {
  let loss = 0,
    correct = 0;
  for (let i = 0; i < stats.length; i += 2) {
    loss += stats[i];
    correct += stats[i + 1];
  }
  const n = stats.length / 2;
  return { loss: loss / n, accuracy: correct / n };
}
