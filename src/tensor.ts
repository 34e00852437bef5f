// A float32 tensor living in a GPU buffer. Eager ops return these; dispose() hands the buffer back.
import type { GpuContext } from './gpu/context.js';
import { TensorTooLargeError } from './gpu/errors.js';
import { sizeOf, type Shape } from './ops/grid.js';
import { UsageError } from './errors.js';

export class Tensor {
  private released = false;

  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    /** Views share their parent's buffer and do not own it. */
    private readonly owns: 'pool' | 'own' | 'view',
  ) {}

  get size(): number {
    return sizeOf(this.shape);
  }

  /** A tensor over a buffer made with ctx.createBuffer, which it destroys on dispose(). */
  static own(ctx: GpuContext, buffer: GPUBuffer, shape: Shape): Tensor {
    return new Tensor(ctx, buffer, [...shape], 'own');
  }

  static fromArray(ctx: GpuContext, data: Float32Array | readonly number[], shape: Shape, label = 'tensor'): Tensor {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (values.length !== sizeOf(shape)) {
      throw new UsageError(`${label}: ${values.length} values do not fill shape [${shape.join(', ')}]`);
    }
    return new Tensor(ctx, ctx.upload(values, label), [...shape], 'own');
  }

  /** An uninitialised tensor from the context's pool. */
  static empty(ctx: GpuContext, shape: Shape): Tensor {
    const bytes = 4 * sizeOf(shape);
    if (bytes > ctx.maxBufferBytes) {
      throw new TensorTooLargeError(
        `tensor [${shape.join(', ')}]: ${bytes} bytes exceeds the device's maxBufferSize of ${ctx.maxBufferBytes}`,
      );
    }
    return new Tensor(ctx, ctx.pool.acquire(bytes, 0x80 | 0x4 | 0x8), [...shape], 'pool');
  }

  /** Same data, new shape (Flatten, Reshape): no copy. */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size)
      throw new UsageError(`reshape: [${this.shape.join(', ')}] cannot become [${shape.join(', ')}]`);
    return new Tensor(this.ctx, this.buffer, [...shape], 'view');
  }

  /** Whether dispose() has been called (the buffer is gone). */
  get disposed(): boolean {
    return this.released;
  }

  async read(): Promise<Float32Array> {
    if (this.released) throw new UsageError('Tensor read after dispose()');
    return this.ctx.readBuffer(this.buffer, 4 * this.size);
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    if (this.owns === 'pool') this.ctx.pool.release(this.buffer);
    else if (this.owns === 'own') this.ctx.destroyBuffer(this.buffer);
  }
}
