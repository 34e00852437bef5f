// A recorded sequence of kernel launches whose buffers are bound once and whose params may change
// between submits: one training step (or one validation batch) is one Program, replayed every step
// with new params (the batch's offset in the shuffle, the dropout seeds, Adam's step size) written
// into its one uniform buffer before the submit. Bindings may be ranges of a buffer, so the head's
// weights and gradients each live in one flat buffer.
import type { GpuContext } from '../gpu/context.js';
import type { Dispatch } from '../gpu/dispatch.js';
import { packParams, paramBytes, type ParamValues } from '../gpu/params.js';

/** A buffer, or `floats` values of it from float `at` (a multiple of 64, WebGPU's 256-byte offset alignment). */
export interface Slice {
  buffer: GPUBuffer;
  at?: number;
  floats?: number;
}

/** A dispatch's bindings in order: `input(i)` from inputs[i], `output` from output, `weight(name)` from weights. */
export function bindSlices<T>(dispatch: Dispatch, inputs: T[], output: T, weights: Record<string, T> = {}): T[] {
  return dispatch.bindings.map((b) => {
    const bound =
      b.kind === 'output'
        ? output
        : b.kind === 'input'
          ? inputs[b.index]
          : b.kind === 'weight'
            ? weights[b.name]
            : undefined;
    if (bound === undefined) throw new Error(`${dispatch.kernel}: nothing bound to ${JSON.stringify(b)}`);
    return bound;
  });
}

const UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST
const SLOT = 256; // minUniformBufferOffsetAlignment's default and largest value

export class Program {
  private readonly steps: { dispatch: Dispatch; slices: Slice[] }[] = [];
  private uniform?: GPUBuffer;
  private bindGroups: GPUBindGroup[] = [];
  private staged?: Uint8Array<ArrayBuffer>;

  constructor(
    private readonly ctx: GpuContext,
    readonly label: string,
  ) {}

  /** Appends a launch with its inputs and output (see bindSlices). Returns its index for setParams. */
  add(dispatch: Dispatch, inputs: Slice[], output: Slice, weights?: Record<string, Slice>): number {
    if (this.uniform) throw new Error(`${this.label}: add() after build()`);
    this.steps.push({ dispatch, slices: bindSlices(dispatch, inputs, output, weights) });
    return this.steps.length - 1;
  }

  /** New params for launch `i` (the same kernel and spec), written at the next write(). */
  setParams(i: number, params: ParamValues): void {
    const s = this.steps[i];
    s.dispatch = { ...s.dispatch, params };
    packParams(s.dispatch.kernel, params, new DataView(this.staged!.buffer, i * SLOT, paramBytes(s.dispatch.kernel)));
  }

  params(i: number): ParamValues {
    return this.steps[i].dispatch.params;
  }

  /** Compiles the pipelines and makes the uniform buffer and every bind group, once. */
  async build(): Promise<void> {
    const { ctx } = this;
    await ctx.compile(this.steps.map((s) => s.dispatch));
    this.uniform = ctx.createBuffer(Math.max(SLOT, this.steps.length * SLOT), `${this.label} params`, UNIFORM);
    this.staged = new Uint8Array(this.steps.length * SLOT);
    this.bindGroups = this.steps.map((s, i) => {
      const entries: GPUBindGroupEntry[] = s.slices.map((sl, binding) => ({
        binding,
        resource:
          sl.at === undefined && sl.floats === undefined
            ? { buffer: sl.buffer }
            : {
                buffer: sl.buffer,
                offset: 4 * (sl.at ?? 0),
                size: 4 * (sl.floats ?? sl.buffer.size / 4 - (sl.at ?? 0)),
              },
      }));
      entries.push({
        binding: s.slices.length,
        resource: { buffer: this.uniform!, offset: i * SLOT, size: paramBytes(s.dispatch.kernel) },
      });
      packParams(
        s.dispatch.kernel,
        s.dispatch.params,
        new DataView(this.staged!.buffer, i * SLOT, paramBytes(s.dispatch.kernel)),
      );
      return ctx.device.createBindGroup({ layout: ctx.pipelines.get(s.dispatch).getBindGroupLayout(0), entries });
    });
  }

  /** Queues the current params (before the submit that runs this program). */
  write(): void {
    this.ctx.device.queue.writeBuffer(this.uniform!, 0, this.staged!);
  }

  /** Records every launch into `pass`, in order. */
  encode(pass: GPUComputePassEncoder): void {
    this.steps.forEach((s, i) => {
      pass.setPipeline(this.ctx.pipelines.get(s.dispatch));
      pass.setBindGroup(0, this.bindGroups[i]);
      pass.dispatchWorkgroups(...s.dispatch.workgroups);
    });
  }

  /** The kernels in order (for reports and tests). */
  get kernels(): string[] {
    return this.steps.map((s) => s.dispatch.kernel);
  }

  dispose(): void {
    if (this.uniform) this.ctx.destroyBuffer(this.uniform);
    this.uniform = undefined;
  }
}
