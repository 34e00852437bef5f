// A graph made runnable: the graph optimized and planned once, its weights uploaded once, and per batch
// size a prepared plan (arena buffers, one uniform buffer holding every dispatch's params, bind groups)
// built once. run() writes the inputs, records every dispatch into one pass, copies the outputs out and
// submits once; overlapping runs each take their own readback buffers.
import { isNode } from '../env.js';
import { GpuError, UsageError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { recordSteps, type RecordedStep } from '../gpu/encode.js';
import { packParams, paramBytes } from '../gpu/params.js';
import { sizeOf } from '../ops/grid.js';
import type { LowerOptions } from '../ops/lowering.js';
import { fuseGatePass } from './channel-scale-pass.js';
import { validateGraph, type Graph, type WeightedGraph } from './ir.js';
import { fuseResidualPass, optimize } from './passes.js';
import { lowerGraph, planGraph, type BufferRef, type ExecutionPlan } from './plan.js';
import { Tensor } from '../tensor.js';
import type { OnLoadProgress } from '../progress.js';
import type { KernelTiming } from '../gpu/context.js';
import { checkSameWeights, uploadWeights, type UploadedWeights } from './weights.js';

const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST
const MAP_READ = 0x1 | 0x8; // MAP_READ | COPY_DST

export interface ModelOptions {
  /** Layers whose outputs run() may return as intermediates: they are neither fused away nor reused. */
  keep?: Iterable<string>;
  /** Skip batch-norm folding and activation and residual fusion (for comparing against the unfused graph). */
  noOptimize?: boolean;
  /**
   * Run 3×3 stride-1 convolutions (≥ 32 channels in and out) as Winograd F(4×4, 3×3) or F(2×2, 3×3)
   * (src/ops/winograd.ts): 4× or 2.25× fewer multiplies, at a relative error around 1e-6 instead of the
   * direct conv's 1e-7. Default true.
   */
  winograd?: boolean;
  /**
   * Store the conv and dense weights as f16 (needs the adapter's shader-f16 feature): half the weight
   * memory and bandwidth. Kernels read them into f32, so sums and activations stay f32; the error is
   * that of rounding each weight to 11 significant bits (`npm run bench` reports it per model).
   */
  f16Weights?: boolean;
  /** Told how uploading the weights and compiling the kernels goes (Model.create; loaders add reading). */
  onProgress?: OnLoadProgress;
  /**
   * @internal dispose() also gives back a lease the loader took with GpuContext.shared() (loaders given
   * no context set this; a caller's own context is left alone).
   */
  releaseContext?: boolean;
}

/** Options of a model's run() and of eager op calls (each uses the fields that apply to it). */
export interface RunOptions {
  /** Inferred from the input length when omitted. */
  batch?: number;
  /** Per-layer GPU times from timestamp queries (each layer gets its own pass), in RunResult.timings. */
  profile?: boolean;
  /** Layer names to read back besides the outputs; each must have been in `keep`. */
  intermediates?: string[];
  /**
   * 'tensors': the outputs stay on the GPU as Tensors (RunResult.tensors, the caller disposes them), for
   * eager ops or another model to take without a round trip through the CPU. Default 'arrays'.
   */
  output?: 'arrays' | 'tensors';
  /** Eager calls: receives per-kernel timestamps when the adapter has timestamp queries. */
  onTiming?: (timings: KernelTiming[]) => void;
  /** Eager calls: receives the kernels the call dispatches, in order. */
  onKernels?: (kernels: string[]) => void;
}

export interface LayerTiming {
  /** The node's name; layers fused into it are listed in `fused`. */
  name: string;
  fused: string[];
  kernels: string[];
  ms: number;
}

export interface RunResult {
  /** The outputs read back (empty with output: 'tensors'). */
  outputs: Float32Array[];
  /** With output: 'tensors', the outputs as GPU tensors (the caller disposes them). */
  tensors?: Tensor[];
  shapes: number[][];
  intermediates: Map<string, { data: Float32Array; shape: number[] }>;
  timings?: LayerTiming[];
}

export interface MemoryReport {
  weightBytes: number;
  /** Arena slots shared by intermediates. */
  activationBytes: number;
  /** Input, staging and uniform buffers. */
  ioBytes: number;
  peakBytes: number;
  /** The two largest single activations (for judging the arena). */
  largestActivations: [number, number];
  /**
   * Measured, not planned: bytes of the GPU buffers this model holds now (weights, and for every
   * batch size run so far its arena, inputs, uniforms and readback buffers). 0 after dispose().
   */
  liveBytes: number;
}

/** An input of run(): values on the CPU (NHWC, batch-major), or a tensor already on the model's GPU. */
export type ModelInput = Float32Array | Tensor;

interface Prepared {
  plan: ExecutionPlan;
  /** Time spent compiling pipelines this batch size needed (0 when all were cached). */
  compileMs: number;
  slots: GPUBuffer[];
  inputs: GPUBuffer[];
  uniform: GPUBuffer;
  /** The layers with dispatches, ready to record. */
  steps: (RecordedStep & { name: string; fused: string[]; kernels: string[] })[];
  /**
   * Readback buffers (by value name) of the runs not in flight. Each run takes a set and gives it back
   * after reading, so overlapping runs never share a buffer that is being mapped. Everything else is
   * shared: the queue runs each submit's commands in order, and a run writes its input with
   * queue.writeBuffer after the submits before it, so an earlier run reads its own input.
   */
  idleReadbacks: Map<string, GPUBuffer>[];
  /**
   * The last three runs' times from submit to results, as the estimate takes them (see run()): the next
   * run is expected to take their median, so one hiccup does not set it.
   */
  recentMs: number[];
  /** Runs finished on this plan (its first also compiles: lavapipe builds each pipeline at its first dispatch). */
  runs: number;
}

/** Runs shorter than this are not worth a timer; of longer ones this fraction is slept before mapping. */
const MIN_SLEEP_MS = 4;
const SLEEP_FRACTION = 0.85;
/** A map that resolves this soon after waking was (most likely) done before. */
const OVERSLEPT_MS = 2;
/**
 * An overslept run counts as this fraction of the time slept. Halving the estimate, as at first, made
 * the next run spin through half its time, which slowed it (the spinning takes a core a CPU adapter's
 * threads use) so much that it measured long again: MobileNetV2's runs alternated 40 / 60 ms.
 */
const OVERSLEPT_SHRINK = 0.9;
/**
 * A run that did not sleep (the second of a plan: the first sets no estimate) spun all through and
 * measured long; counting this fraction of it makes the next sleep too little rather than too long.
 * With the first sample taken whole, the next runs overslept and came down 10% a run (Yolo-Fastest
 * 103, 86, 76, 68, 60, 53, 46 ms; now 70, 58, 37 ms).
 */
const SPUN_FRACTION = 0.7;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The median of three run times, the lower of two, 0 before any. */
function expectedRunMs(recent: readonly number[]): number {
  const sorted = [...recent].sort((a, b) => a - b);
  return sorted[sorted.length === 3 ? 1 : 0] ?? 0;
}

/**
 * The passes for the planned graph only (the benchmarks' peers get the graph before them): squeeze-and-
 * excite gates into their projection convs, then residual adds into the convs before them whose
 * lowering can absorb one (Winograd, 1×1 on the subgroup GEMM).
 */
function fuseForDevice(
  g: WeightedGraph,
  keep: ReadonlySet<string>,
  ctx: GpuContext,
  lowering: LowerOptions,
): WeightedGraph {
  const protect = new Set([...keep, ...g.graph.outputs]);
  const gated = fuseGatePass(g, protect);
  const { steps } = lowerGraph(gated.graph, 1, ctx.caps, lowering);
  const absorbs = new Map(steps.map((s) => [s.node.name, !!s.lowering?.absorbsResidual]));
  return fuseResidualPass(gated, protect, (conv) => absorbs.get(conv.name) ?? false);
}

export class Model {
  private readonly prepared = new Map<number, Prepared>();
  /** Preparations under way, so overlapping first runs at a new batch size prepare it once. */
  private readonly preparing = new Map<number, Promise<Prepared>>();
  /** Readback sets taken by runs in flight (destroyed by dispose() with the rest). */
  private readonly busyReadbacks = new Set<Map<string, GPUBuffer>>();
  /** When the runs submitted so far are expected to be done (performance.now() ms; see run()). */
  private queueEndsAt = 0;
  private disposed = false;

  private constructor(
    readonly ctx: GpuContext,
    /** The optimized graph (weights are on the GPU, not here). */
    readonly graph: Graph,
    private readonly weights: UploadedWeights,
    readonly weightBytes: number,
    private readonly keep: ReadonlySet<string>,
    private readonly lowering: LowerOptions,
    private readonly releaseContext: boolean,
  ) {}

  /** Optimizes the graph, plans it (checking every shape), uploads the weights and compiles the batch-1 pipelines. */
  static async create(ctx: GpuContext, source: WeightedGraph, options: ModelOptions = {}): Promise<Model> {
    let model: Model | undefined;
    try {
      validateGraph(source.graph);
      const keep = new Set(options.keep ?? []);
      if (options.f16Weights && !ctx.device.features.has('shader-f16')) {
        throw new GpuError(
          `f16 weights need the shader-f16 feature, which this adapter (${ctx.description}) does not offer`,
        );
      }
      const lowering: LowerOptions = { winograd: options.winograd, f16Weights: options.f16Weights };
      const g = options.noOptimize ? source : fuseForDevice(optimize(source, keep), keep, ctx, lowering);
      const plan = planGraph(g.graph, 1, ctx.caps, keep, lowering); // every layer checked before any upload
      const { buffers, bytes } = uploadWeights(ctx, plan.steps, g.weights, options.onProgress);
      model = new Model(ctx, g.graph, buffers, bytes, keep, lowering, !!options.releaseContext);
      await model.prepare(1, plan, options.onProgress);
      return model;
    } catch (e) {
      // The model owns a loader's lease from here on, failing or not.
      if (model) model.dispose();
      else if (options.releaseContext) ctx.release();
      throw e;
    }
  }

  get inputShapes(): number[][] {
    return this.graph.inputs.map((name) => {
      const op = this.graph.nodes.find((n) => n.name === name)!.op;
      return op.kind === 'input' ? op.shape : [];
    });
  }

  /** Output shapes without the batch axis. */
  get outputShapes(): number[][] {
    const plan = this.prepared.get(1)!.plan;
    return this.graph.outputs.map((name) => plan.shapes.get(name)!.slice(1));
  }

  /** Plans, allocates and compiles for a batch size once; later runs at that size reuse it. */
  private prepare(batch: number, plan?: ExecutionPlan, onProgress?: OnLoadProgress): Promise<Prepared> {
    const done = this.prepared.get(batch);
    if (done) return Promise.resolve(done);
    let pending = this.preparing.get(batch);
    if (!pending) {
      pending = this.build(
        plan ?? planGraph(this.graph, batch, this.ctx.caps, this.keep, this.lowering),
        onProgress,
      ).finally(() => this.preparing.delete(batch));
      this.preparing.set(batch, pending);
    }
    return pending;
  }

  private async build(plan: ExecutionPlan, onProgress?: OnLoadProgress): Promise<Prepared> {
    const { ctx } = this;
    const { batch } = plan;
    checkSameWeights(plan.steps, this.weights);
    const planned = plan.steps.flatMap((s) => s.dispatches);
    const compileStart = performance.now();
    await ctx.compile(
      planned.map((d) => d.dispatch),
      onProgress,
    );
    const compileMs = performance.now() - compileStart;

    const align = ctx.device.limits.minUniformBufferOffsetAlignment;
    const offsets: number[] = [];
    let uniformBytes = 0;
    for (const d of planned) {
      offsets.push(uniformBytes);
      uniformBytes += Math.ceil(paramBytes(d.dispatch.kernel) / align) * align;
    }
    const created: GPUBuffer[] = [];
    const make = (bytes: number, label: string, usage = STORAGE) => {
      const b = ctx.createBuffer(bytes, label, usage);
      created.push(b);
      return b;
    };
    try {
      if (this.disposed) throw new UsageError('Model used after dispose()');
      const slots = plan.slotBytes.map((bytes, i) => make(bytes, `arena slot ${i} (batch ${batch})`));
      const inputs = plan.inputBytes.map((bytes, i) => make(bytes, `input ${this.graph.inputs[i]} (batch ${batch})`));
      const uniform = make(Math.max(uniformBytes, 16), 'params', UNIFORM);
      const packed = new Uint8Array(uniformBytes);
      planned.forEach((d, i) =>
        packed.set(new Uint8Array(packParams(d.dispatch.kernel, d.dispatch.params)), offsets[i]),
      );
      ctx.device.queue.writeBuffer(uniform, 0, packed);

      const resolve = (ref: BufferRef): GPUBuffer =>
        ref.kind === 'slot'
          ? slots[ref.slot]
          : ref.kind === 'input'
            ? inputs[ref.index]
            : this.weights.get(ref.node)!.get(ref.name)![ref.part ?? 0];
      let index = 0;
      const steps = await ctx.scoped(() =>
        plan.steps
          .filter((s) => s.dispatches.length)
          .map((step) => ({
            name: step.node.name,
            fused: step.node.fused ?? [step.node.name],
            kernels: step.dispatches.map((d) => d.dispatch.kernel),
            launches: step.dispatches.map((d) => ({
              pipeline: ctx.pipelines.get(d.dispatch),
              bindGroup: ctx.bindGroup(
                { dispatch: d.dispatch, buffers: d.buffers.map(resolve), label: step.node.name },
                uniform,
                offsets[index++],
              ),
              workgroups: d.dispatch.workgroups,
            })),
          })),
      );
      const prepared: Prepared = {
        plan,
        compileMs,
        slots,
        inputs,
        uniform,
        steps,
        idleReadbacks: [],
        recentMs: [],
        runs: 0,
      };
      this.prepared.set(batch, prepared);
      return prepared;
    } catch (e) {
      created.forEach((b) => ctx.destroyBuffer(b));
      throw e;
    }
  }

  /**
   * Runs the model on `inputs` (one array per model input, NHWC, batch-major). The batch size is
   * taken from the input length unless given.
   */
  async run(inputs: ModelInput | ModelInput[], options: RunOptions = {}): Promise<RunResult> {
    if (this.disposed) throw new UsageError('Model used after dispose()');
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    xs.forEach((x, i) => {
      if (x instanceof Tensor && x.ctx !== this.ctx)
        throw new UsageError(`input ${i} is a tensor on another GpuContext than the model's`);
    });
    const asTensors = options.output === 'tensors';
    const shapes = this.inputShapes;
    if (xs.length !== shapes.length)
      throw new UsageError(`the model takes ${shapes.length} input(s), got ${xs.length}`);
    const lengths = xs.map((x) => (x instanceof Tensor ? x.size : x.length));
    const per = sizeOf(shapes[0]);
    const batch = options.batch ?? lengths[0] / per;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new UsageError(
        `input has ${lengths[0]} values, not a whole batch of [${shapes[0].join(', ')}] (${per} each)`,
      );
    }
    lengths.forEach((length, i) => {
      if (length !== batch * sizeOf(shapes[i])) {
        throw new UsageError(
          `input ${i} ('${this.graph.inputs[i]}') has ${length} values, expected ${batch}×[${shapes[i].join(', ')}]`,
        );
      }
    });
    const wanted = options.intermediates ?? [];
    for (const name of wanted) {
      if (!this.keep.has(name) && !this.graph.outputs.includes(name)) {
        throw new UsageError(`intermediate '${name}' was not kept: create the model with keep: ['${name}']`);
      }
    }
    const p = await this.prepare(batch);
    const { ctx } = this;
    const reads = [...new Set([...(asTensors ? [] : this.graph.outputs), ...wanted])];
    const readback = this.takeReadback(p, reads);
    let times: ReturnType<typeof recordSteps>;
    let tensors: Tensor[] | undefined;
    let reusable = false;
    try {
      await ctx.scoped(() => {
        const encoder = ctx.device.createCommandEncoder();
        xs.forEach((x, i) => {
          if (x instanceof Tensor) encoder.copyBufferToBuffer(x.buffer, 0, p.inputs[i], 0, 4 * x.size);
          else ctx.device.queue.writeBuffer(p.inputs[i], 0, x.buffer, x.byteOffset, x.byteLength);
        });
        times = recordSteps(ctx, encoder, p.steps, !!options.profile);
        for (const name of reads) {
          const ref = p.plan.values.get(name)!;
          const src = ref.kind === 'slot' ? p.slots[ref.slot] : ref.kind === 'input' ? p.inputs[ref.index] : undefined;
          if (!src) throw new Error(`'${name}' is a weight, not a value`);
          encoder.copyBufferToBuffer(src, 0, readback.get(name)!, 0, 4 * sizeOf(p.plan.shapes.get(name)!));
        }
        if (asTensors) tensors = this.copyOutTensors(p, encoder);
        ctx.device.queue.submit([encoder.finish()]);
      });
      // Dawn in Node polls for a pending map on the main thread, spinning a core the GPU work (a CPU
      // adapter's) could use; sleep through most of the time this run should take before asking. A run
      // queued behind others finishes about one run's time after the last of them is expected to: with
      // only its own time slept, 20 overlapping detections spun through the queue and took 1.3× as long
      // as 20 in a row. Only a run with nothing else in flight measures its time.
      const submitted = performance.now(),
        alone = this.busyReadbacks.size === 1;
      const startsAt = Math.max(submitted, this.queueEndsAt);
      const expectedMs = expectedRunMs(p.recentMs);
      this.queueEndsAt = startsAt + expectedMs;
      const slept = expectedMs > MIN_SLEEP_MS && isNode && reads.length > 0;
      if (slept) await sleep(startsAt - submitted + SLEEP_FRACTION * expectedMs);
      const woke = performance.now();
      // All maps at once: each resolves when this run's commands are done.
      await Promise.all(reads.map((name) => readback.get(name)!.mapAsync(0x1)));
      const done = performance.now();
      // A first run's time is mostly compiling, and a run already done when the sleep ended only says
      // it took less than that: taken as they stand, a first run's 2.7 s of compiling made each later
      // run sleep 85% of the one before, for tens of runs.
      if (alone && reads.length) {
        const overslept = slept && done - woke < OVERSLEPT_MS;
        const took = done - submitted;
        if (p.runs > 0) {
          const sample = overslept ? OVERSLEPT_SHRINK * took : slept ? took : SPUN_FRACTION * took;
          p.recentMs = [...p.recentMs.slice(-2), sample];
        }
      }
      p.runs++;
      const data = new Map<string, Float32Array>();
      for (const name of reads) {
        const staging = readback.get(name)!;
        data.set(name, new Float32Array(staging.getMappedRange(0, 4 * sizeOf(p.plan.shapes.get(name)!)).slice(0)));
        staging.unmap();
      }
      reusable = true;
      const ms = times ? await times.read() : undefined;
      ctx.checkHealthy();
      return {
        outputs: asTensors ? [] : this.graph.outputs.map((n) => data.get(n)!),
        tensors,
        shapes: this.graph.outputs.map((n) => p.plan.shapes.get(n)!),
        intermediates: new Map(wanted.map((n) => [n, { data: data.get(n)!, shape: p.plan.shapes.get(n)! }])),
        timings: ms && p.steps.map((s, i) => ({ name: s.name, fused: s.fused, kernels: s.kernels, ms: ms[i] })),
      };
    } catch (e) {
      tensors?.forEach((t) => t.dispose());
      if (this.disposed) throw new UsageError('Model disposed while run() was in flight');
      throw e;
    } finally {
      times?.destroy();
      this.giveBackReadback(p, readback, reusable);
    }
  }

  /** New tensors holding the outputs, copied in `encoder` (queue order makes them ready for later GPU work). */
  private copyOutTensors(p: Prepared, encoder: GPUCommandEncoder): Tensor[] {
    return this.graph.outputs.map((name) => {
      const ref = p.plan.values.get(name)!;
      const src = ref.kind === 'slot' ? p.slots[ref.slot] : ref.kind === 'input' ? p.inputs[ref.index] : undefined;
      if (!src) throw new Error(`'${name}' is a weight, not a value`);
      const shape = p.plan.shapes.get(name)!;
      const t = Tensor.own(this.ctx, this.ctx.createBuffer(4 * sizeOf(shape), `output ${name}`), shape);
      encoder.copyBufferToBuffer(src, 0, t.buffer, 0, 4 * sizeOf(shape));
      return t;
    });
  }

  /** A readback set for one run holding a buffer for each of `names`. */
  private takeReadback(p: Prepared, names: string[]): Map<string, GPUBuffer> {
    const set = p.idleReadbacks.pop() ?? new Map<string, GPUBuffer>();
    for (const name of names) {
      if (!set.has(name))
        set.set(name, this.ctx.createBuffer(4 * sizeOf(p.plan.shapes.get(name)!), `readback ${name}`, MAP_READ));
    }
    this.busyReadbacks.add(set);
    return set;
  }

  /** After a failed run a buffer may still be mapping: such a set is destroyed rather than reused. */
  private giveBackReadback(p: Prepared, set: Map<string, GPUBuffer>, reusable: boolean): void {
    this.busyReadbacks.delete(set);
    if (this.disposed) return;
    if (reusable) p.idleReadbacks.push(set);
    else set.forEach((b) => this.ctx.destroyBuffer(b));
  }

  /** Pipeline compile time (ms) spent preparing `batch`, or undefined if not prepared yet. */
  compileMs(batch = 1): number | undefined {
    return this.prepared.get(batch)?.compileMs;
  }

  private planFor(batch: number): ExecutionPlan {
    return this.prepared.get(batch)?.plan ?? planGraph(this.graph, batch, this.ctx.caps, this.keep, this.lowering);
  }

  /**
   * Floating-point operations of one forward pass at `batch` as a direct computation counts them
   * (multiply-adds count 2).
   */
  flops(batch = 1): number {
    return this.planFor(batch).steps.reduce((n, s) => n + (s.lowering?.flops ?? 0), 0);
  }

  /** The first output for `x` (a batch of one or more inputs). */
  async predict(x: Float32Array, batch?: number): Promise<Float32Array> {
    return (await this.run(x, { batch })).outputs[0];
  }

  /** GPU memory held for a forward pass at `batch` (planned), and the bytes held now (measured). */
  memory(batch = 1): MemoryReport {
    const plan = this.planFor(batch);
    const activationBytes = plan.slotBytes.reduce((a, b) => a + b, 0);
    const outputs = this.graph.outputs.reduce((sum, n) => sum + 4 * sizeOf(plan.shapes.get(n)!), 0);
    const align = this.ctx.device.limits.minUniformBufferOffsetAlignment;
    const uniform = plan.steps
      .flatMap((s) => s.dispatches)
      .reduce((sum, d) => sum + Math.ceil(paramBytes(d.dispatch.kernel) / align) * align, 0);
    const ioBytes = plan.inputBytes.reduce((a, b) => a + b, 0) + outputs + uniform;
    const sizes = plan.steps
      .filter((s) => s.dispatches.length)
      .map((s) => 4 * sizeOf(plan.shapes.get(s.node.name)!))
      .sort((a, b) => b - a);
    return {
      weightBytes: this.weightBytes,
      activationBytes,
      ioBytes,
      peakBytes: this.weightBytes + activationBytes + ioBytes,
      largestActivations: [sizes[0] ?? 0, sizes[1] ?? 0],
      liveBytes: this.liveBytes(),
    };
  }

  private liveBytes(): number {
    const sum = (list: Iterable<GPUBuffer>) => [...list].reduce((n, b) => n + b.size, 0);
    let total = 0;
    this.weights.forEach((w) => w.forEach((parts) => (total += sum(parts))));
    for (const p of this.prepared.values()) {
      total += sum([...p.slots, ...p.inputs, p.uniform]);
      p.idleReadbacks.forEach((set) => (total += sum(set.values())));
    }
    this.busyReadbacks.forEach((set) => (total += sum(set.values())));
    return total;
  }

  /** Frees every GPU buffer the model holds; runs still in flight then fail with a clear error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const destroy = (b: GPUBuffer) => this.ctx.destroyBuffer(b);
    for (const p of this.prepared.values()) {
      [...p.slots, ...p.inputs, p.uniform].forEach(destroy);
      p.idleReadbacks.forEach((set) => set.forEach(destroy));
    }
    this.busyReadbacks.forEach((set) => set.forEach(destroy));
    this.busyReadbacks.clear();
    this.prepared.clear();
    this.weights.forEach((w) => w.forEach((parts) => parts.forEach(destroy)));
    this.weights.clear();
    if (this.releaseContext) this.ctx.release();
  }
}
