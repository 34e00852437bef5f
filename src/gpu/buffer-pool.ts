// Storage buffers for eager op calls, bucketed by size. A released buffer may still be referenced by
// commands not yet submitted, so it becomes reusable only after the next submit: queue order then
// guarantees that any later write to it happens after those commands read it.

const MIN_BUCKET = 256;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private readonly all = new Set<GPUBuffer>();

  constructor(
    private readonly create: (bytes: number, usage: GPUBufferUsageFlags) => GPUBuffer,
    private readonly destroyOne: (buffer: GPUBuffer) => void,
  ) {}

  static bucketBytes(bytes: number): number {
    return Math.max(MIN_BUCKET, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = BufferPool.bucketBytes(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) return reused;
    const buffer = this.create(size, usage);
    this.all.add(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.all.has(buffer)) this.pending.push(buffer);
  }

  /** Call after every queue.submit(). */
  submitted(): void {
    for (const b of this.pending) {
      const key = `${b.usage}:${b.size}`;
      const list = this.free.get(key) ?? [];
      list.push(b);
      this.free.set(key, list);
    }
    this.pending = [];
  }

  get bytesAllocated(): number {
    let n = 0;
    for (const b of this.all) n += b.size;
    return n;
  }

  /** Frees the buffers nobody holds (those released and already past a submit). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.all.delete(b);
        this.destroyOne(b);
      }
    }
    this.free.clear();
  }

  destroy(): void {
    for (const b of this.all) this.destroyOne(b);
    this.all.clear();
    this.free.clear();
    this.pending = [];
  }
}
