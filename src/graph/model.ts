// A graph made runnable: weights uploaded once, and per batch size a prepared plan (arena buffers,
// one uniform buffer holding every call's params, bind groups, staging buffers) built once. run()
// writes the inputs, records every dispatch into one pass, copies the outputs out, submits once.
import type { GpuContext } from '../gpu/context.js';
import { packParams, paramBytes } from '../gpu/params.js';
import { toF16Array } from '../gpu/f16.js';
import { sizeOf } from '../ops/kernel-call.js';
import type { Graph, Node, Op } from './ir.js';
import { validateGraph } from './ir.js';
import { nodeWeights, type LowerOptions } from './lower.js';
import { fuseResidualPass, optimize } from './passes.js';
import { residualFits } from '../ops/conv2d.js';
import { winogradApplies } from '../ops/winograd.js';
import { planGraph, type BufferRef, type ExecutionPlan } from './plan.js';
import { GpuError, UsageError } from '../errors.js';

const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST
const MAP_READ = 0x1 | 0x8; // MAP_READ | COPY_DST

export interface ModelOptions {
  /** Layers whose outputs run() may return as intermediates: they are neither fused away nor reused. */
  keep?: Iterable<string>;
  /** Skip batch-norm folding and activation fusion (for comparing against the unfused graph). */
  noOptimize?: boolean;
  /**
   * Run 3×3 stride-1 convolutions (≥ 32 channels in and out) as Winograd F(4×4, 3×3) or F(2×2, 3×3)
   * (src/ops/winograd.ts): 4× or 2.25× fewer multiplies, at a relative error around 1e-6 instead of the
   * direct conv's 1e-7. Default true.
   */
  winograd?: boolean;
  /** Tune this model's shape classes that this adapter has no cached choice for, before planning. */
  tune?: boolean;
  /**
   * Store the conv and dense weights as f16 (needs the adapter's shader-f16 feature): half the weight
   * memory and bandwidth. Kernels read them into f32, so sums and activations stay f32; the error is
   * that of rounding each weight to 11 significant bits (`npm run bench` reports it per model).
   */
  f16Weights?: boolean;
}

export interface RunOptions {
  /** Inferred from the input length when omitted. */
  batch?: number;
  /** Per-layer GPU times from timestamp queries (each layer gets its own pass). */
  profile?: boolean;
  /** Layer names to read back besides the outputs; each must have been in `keep`. */
  intermediates?: string[];
}

export interface LayerTiming {
  /** The node's name; layers fused into it are listed in `fused`. */
  name: string;
  fused: string[];
  kernels: string[];
  ms: number;
}

export interface RunResult {
  outputs: Float32Array[];
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

interface Prepared {
  plan: ExecutionPlan;
  /** Time spent compiling pipelines this batch size needed (0 when all were cached). */
  compileMs: number;
  slots: GPUBuffer[];
  inputs: GPUBuffer[];
  uniform: GPUBuffer;
  bindGroups: GPUBindGroup[][];
  /**
   * Readback buffers (by value name) of the runs not in flight. Each run takes a set and gives it back
   * after reading, so overlapping runs never share a buffer that is being mapped. Everything else is
   * shared: the queue runs each submit's commands in order, and a run writes its input with
   * queue.writeBuffer after the submits before it, so an earlier run reads its own input.
   */
  idleReadbacks: Map<string, GPUBuffer>[];
}

/** Residual adds folded into the convs before them whose epilogue has one: Winograd, and 1×1 convs on the subgroup GEMM. */
function fuseResiduals(graph: Graph, keep: ReadonlySet<string>, caps: GpuContext['caps'], lowering: LowerOptions): Graph {
  const shapes = planGraph(graph, 1, caps, keep, lowering).shapes;
  const protect = new Set([...keep, ...graph.outputs]);
  return fuseResidualPass(graph, protect, (conv) => {
    if (conv.op.kind !== 'conv2d') return false;
    const x = shapes.get(conv.inputs[0])!;
    return (lowering.winograd !== false && winogradApplies(x, conv.op.shape, conv.op.attrs)) || residualFits(x, conv.op.shape, conv.op.attrs, caps);
  });
}

/** The op without its weight arrays (shapes and attributes stay), so the CPU copy can be freed after upload. */
function withoutWeights(op: Op): Op {
  const none = new Float32Array(0);
  switch (op.kind) {
    case 'conv2d': return { ...op, weights: none, bias: undefined };
    case 'dense': return { ...op, weights: none, bias: undefined };
    case 'batchnorm': return { ...op, params: { ...op.params, gamma: none, beta: none, mean: new Float32Array(op.params.mean.length), variance: none } };
    case 'scale': return { ...op, scale: none, offset: none };
    default: return op;
  }
}

/** 'node/role' of every weight some kernel reads as f16 (calls specialised with F16 = 1 bind it at 1). */
function f16WeightRoles(plan: ExecutionPlan): Set<string> {
  const roles = new Set<string>();
  for (const step of plan.steps) {
    for (const { call, buffers } of step.calls) {
      const ref = buffers[1];
      if (call.spec.F16 === 1 && ref?.kind === 'weight') roles.add(`${ref.node}/${ref.role}`);
    }
  }
  return roles;
}

export class Model {
  private readonly prepared = new Map<number, Prepared>();
  /** Preparations under way, so overlapping first runs at a new batch size prepare it once. */
  private readonly preparing = new Map<number, Promise<Prepared>>();
  /** Readback sets taken by runs in flight (destroyed by dispose() with the rest). */
  private readonly busyReadbacks = new Set<Map<string, GPUBuffer>>();
  private disposed = false;

  private constructor(
    readonly ctx: GpuContext,
    /** The optimized graph, weights stripped. */
    readonly graph: Graph,
    private readonly weights: Map<string, Record<string, GPUBuffer>>,
    readonly weightBytes: number,
    private readonly keep: ReadonlySet<string>,
    private readonly lowering: LowerOptions,
  ) {}

  /** Optimizes the graph, checks every shape, uploads the weights and compiles the batch-1 pipelines. */
  static async create(ctx: GpuContext, graph: Graph, options: ModelOptions = {}): Promise<Model> {
    validateGraph(graph);
    if (options.tune) await (await import('../tools/tuner.js')).tuneGraph(ctx, graph);
    const keep = new Set(options.keep ?? []);
    if (options.f16Weights && !ctx.device.features.has('shader-f16')) {
      throw new GpuError(`f16 weights need the shader-f16 feature, which this adapter (${ctx.description}) does not offer`);
    }
    const lowering: LowerOptions = { winograd: options.winograd, f16Weights: options.f16Weights };
    const optimized = options.noOptimize ? graph : fuseResiduals(optimize(graph, keep), keep, ctx.caps, lowering);
    const plan = planGraph(optimized, 1, ctx.caps, keep, lowering); // validates every layer before any upload
    const weights = new Map<string, Record<string, GPUBuffer>>();
    let weightBytes = 0;
    const f16 = f16WeightRoles(plan);
    try {
      for (const node of optimized.nodes) {
        const arrays = nodeWeights(node, node.inputs.map((i) => plan.shapes.get(i)!), ctx.caps, lowering);
        const buffers: Record<string, GPUBuffer> = {};
        for (const [role, data] of Object.entries(arrays)) {
          buffers[role] = ctx.upload(f16.has(`${node.name}/${role}`) ? toF16Array(data) : data, `${node.name}/${role}`);
          weightBytes += buffers[role].size;
        }
        weights.set(node.name, buffers);
      }
    } catch (e) {
      weights.forEach((b) => Object.values(b).forEach((buf) => ctx.destroyBuffer(buf)));
      throw e;
    }
    const stripped: Graph = { ...optimized, nodes: optimized.nodes.map((n): Node => ({ ...n, op: withoutWeights(n.op) })) };
    const model = new Model(ctx, stripped, weights, weightBytes, keep, lowering);
    try {
      await model.prepare(1);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
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
  private prepare(batch: number): Promise<Prepared> {
    const done = this.prepared.get(batch);
    if (done) return Promise.resolve(done);
    let pending = this.preparing.get(batch);
    if (!pending) {
      pending = this.build(batch).finally(() => this.preparing.delete(batch));
      this.preparing.set(batch, pending);
    }
    return pending;
  }

  private async build(batch: number): Promise<Prepared> {
    const { ctx } = this;
    const plan = planGraph(this.graph, batch, ctx.caps, this.keep, this.lowering);
    const calls = plan.steps.flatMap((s) => s.calls);
    const compileStart = performance.now();
    await ctx.compile(calls.map((c) => c.call));
    const compileMs = performance.now() - compileStart;

    const align = ctx.device.limits.minUniformBufferOffsetAlignment;
    const offsets: number[] = [];
    let uniformBytes = 0;
    for (const c of calls) {
      offsets.push(uniformBytes);
      uniformBytes += Math.ceil(paramBytes(c.call.kernel) / align) * align;
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
      calls.forEach((c, i) => packed.set(new Uint8Array(packParams(c.call.kernel, c.call.params)), offsets[i]));
      ctx.device.queue.writeBuffer(uniform, 0, packed);

      const resolve = (ref: BufferRef): GPUBuffer =>
        ref.kind === 'slot' ? slots[ref.slot] : ref.kind === 'input' ? inputs[ref.index] : this.weights.get(ref.node)![ref.role];
      let callIndex = 0;
      const bindGroups = await ctx.scoped(() =>
        plan.steps.map((step) =>
          step.calls.map((c) => {
            const buffers = c.buffers.map(resolve);
            return ctx.bindGroup({ call: c.call, buffers, label: step.node.name }, uniform, offsets[callIndex++]);
          }),
        ),
      );
      const prepared: Prepared = { plan, compileMs, slots, inputs, uniform, bindGroups, idleReadbacks: [] };
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
  async run(inputs: Float32Array | Float32Array[], options: RunOptions = {}): Promise<RunResult> {
    if (this.disposed) throw new UsageError('Model used after dispose()');
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    const shapes = this.inputShapes;
    if (xs.length !== shapes.length) throw new UsageError(`the model takes ${shapes.length} input(s), got ${xs.length}`);
    const per = sizeOf(shapes[0]);
    const batch = options.batch ?? xs[0].length / per;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new UsageError(`input has ${xs[0].length} values, not a whole batch of [${shapes[0].join(', ')}] (${per} each)`);
    }
    xs.forEach((x, i) => {
      if (x.length !== batch * sizeOf(shapes[i])) {
        throw new UsageError(`input ${i} ('${this.graph.inputs[i]}') has ${x.length} values, expected ${batch}×[${shapes[i].join(', ')}]`);
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
    const reads = [...new Set([...this.graph.outputs, ...wanted])];
    const readback = this.takeReadback(p, reads);
    const profile = !!options.profile && ctx.hasTimestamps;
    const steps = p.plan.steps.map((s, i) => ({ ...s, groups: p.bindGroups[i] })).filter((s) => s.calls.length);
    const querySet = profile ? ctx.device.createQuerySet({ type: 'timestamp', count: 2 * steps.length }) : undefined;
    const resolved = profile ? ctx.createBuffer(16 * steps.length, 'timestamps', 0x200 | 0x4) : undefined;
    const ticksStaging = profile ? ctx.createBuffer(16 * steps.length, 'timestamp readback', MAP_READ) : undefined;
    let reusable = false;
    try {
      await ctx.scoped(() => {
        xs.forEach((x, i) => ctx.device.queue.writeBuffer(p.inputs[i], 0, x.buffer, x.byteOffset, x.byteLength));
        const encoder = ctx.device.createCommandEncoder();
        let pass: GPUComputePassEncoder | undefined;
        steps.forEach((step, i) => {
          if (querySet || !pass) {
            pass = encoder.beginComputePass(querySet
              ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } }
              : {});
          }
          step.calls.forEach((c, j) => {
            pass!.setPipeline(ctx.pipelines.get(c.call));
            pass!.setBindGroup(0, step.groups[j]);
            pass!.dispatchWorkgroups(...c.call.workgroups);
          });
          if (querySet) pass.end();
        });
        if (!querySet) pass?.end();
        for (const name of reads) {
          const ref = p.plan.values.get(name)!;
          const src = ref.kind === 'slot' ? p.slots[ref.slot] : ref.kind === 'input' ? p.inputs[ref.index] : undefined;
          if (!src) throw new Error(`'${name}' is a weight, not a value`);
          encoder.copyBufferToBuffer(src, 0, readback.get(name)!, 0, 4 * sizeOf(p.plan.shapes.get(name)!));
        }
        if (querySet && resolved && ticksStaging) {
          encoder.resolveQuerySet(querySet, 0, 2 * steps.length, resolved, 0);
          encoder.copyBufferToBuffer(resolved, 0, ticksStaging, 0, 16 * steps.length);
        }
        ctx.device.queue.submit([encoder.finish()]);
      });
      // All maps at once: each resolves when this run's commands are done.
      await Promise.all(reads.map((name) => readback.get(name)!.mapAsync(0x1)));
      const data = new Map<string, Float32Array>();
      for (const name of reads) {
        const staging = readback.get(name)!;
        data.set(name, new Float32Array(staging.getMappedRange(0, 4 * sizeOf(p.plan.shapes.get(name)!)).slice(0)));
        staging.unmap();
      }
      reusable = true;
      let timings: LayerTiming[] | undefined;
      if (ticksStaging) {
        await ticksStaging.mapAsync(0x1);
        const ticks = new BigInt64Array(ticksStaging.getMappedRange().slice(0));
        ticksStaging.unmap();
        timings = steps.map((s, i) => ({
          name: s.node.name,
          fused: s.node.fused ?? [s.node.name],
          kernels: s.calls.map((c) => c.call.kernel),
          ms: Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6,
        }));
      }
      ctx.checkHealthy();
      return {
        outputs: this.graph.outputs.map((n) => data.get(n)!),
        shapes: this.graph.outputs.map((n) => p.plan.shapes.get(n)!),
        intermediates: new Map(wanted.map((n) => [n, { data: data.get(n)!, shape: p.plan.shapes.get(n)! }])),
        timings,
      };
    } catch (e) {
      if (this.disposed) throw new UsageError('Model disposed while run() was in flight');
      throw e;
    } finally {
      this.giveBackReadback(p, readback, reusable);
      querySet?.destroy();
      if (resolved) ctx.destroyBuffer(resolved);
      if (ticksStaging) ctx.destroyBuffer(ticksStaging);
    }
  }

  /** A readback set for one run holding a buffer for each of `names`. */
  private takeReadback(p: Prepared, names: string[]): Map<string, GPUBuffer> {
    const set = p.idleReadbacks.pop() ?? new Map<string, GPUBuffer>();
    for (const name of names) {
      if (!set.has(name)) set.set(name, this.ctx.createBuffer(4 * sizeOf(p.plan.shapes.get(name)!), `readback ${name}`, MAP_READ));
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

  /** Floating-point operations of one forward pass at `batch` as a direct convolution counts them (multiply-adds count 2). */
  flops(batch = 1): number {
    const plan = this.prepared.get(batch)?.plan ?? planGraph(this.graph, batch, this.ctx.caps, this.keep, this.lowering);
    let total = 0;
    for (const { node } of plan.steps) {
      const out = plan.shapes.get(node.name)!;
      const op = node.op;
      if (op.kind === 'conv2d') total += 2 * sizeOf(out) * op.shape[0] * op.shape[1] * op.shape[2];
      else if (op.kind === 'dense') total += 2 * sizeOf(out) * plan.shapes.get(node.inputs[0])!.at(-1)!;
    }
    return total;
  }

  /** The first output for `x` (a batch of one or more inputs). */
  async predict(x: Float32Array, batch?: number): Promise<Float32Array> {
    return (await this.run(x, { batch })).outputs[0];
  }

  /** GPU memory held for a forward pass at `batch` (planned without allocating). */
  memory(batch = 1): MemoryReport {
    const plan = this.prepared.get(batch)?.plan ?? planGraph(this.graph, batch, this.ctx.caps, this.keep, this.lowering);
    const activationBytes = plan.slotBytes.reduce((a, b) => a + b, 0);
    const outputs = this.graph.outputs.reduce((sum, n) => sum + 4 * sizeOf(plan.shapes.get(n)!), 0);
    const align = this.ctx.device.limits.minUniformBufferOffsetAlignment;
    const uniform = plan.steps.flatMap((s) => s.calls).reduce((sum, c) => sum + Math.ceil(paramBytes(c.call.kernel) / align) * align, 0);
    const ioBytes = plan.inputBytes.reduce((a, b) => a + b, 0) + outputs + uniform;
    const sizes = plan.steps.filter((s) => s.calls.length).map((s) => 4 * sizeOf(plan.shapes.get(s.node.name)!)).sort((a, b) => b - a);
    return {
      weightBytes: this.weightBytes, activationBytes, ioBytes,
      peakBytes: this.weightBytes + activationBytes + ioBytes,
      largestActivations: [sizes[0] ?? 0, sizes[1] ?? 0],
      liveBytes: this.liveBytes(),
    };
  }

  private liveBytes(): number {
    const sum = (list: Iterable<GPUBuffer>) => [...list].reduce((n, b) => n + b.size, 0);
    let total = 0;
    this.weights.forEach((w) => (total += sum(Object.values(w))));
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
    this.weights.forEach((b) => Object.values(b).forEach(destroy));
    this.weights.clear();
  }
}
