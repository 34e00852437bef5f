// GpuContext owns one device and everything made on it: the pipeline cache, the buffer pool, and the
// error plumbing that turns WebGPU's validation/out-of-memory/device-lost reports into exceptions.
import { BufferPool } from './buffer-pool.js';
import { bindingName, describeDispatch, type DeviceCaps, type Dispatch } from './dispatch.js';
import { recordSteps } from './encode.js';
import { acquireDevice, describeAdapter, type AcquiredDevice, type DeviceOptions } from './device.js';
import { GpuError, TensorTooLargeError } from './errors.js';
import { packParams, paramBytes } from './params.js';
import { PipelineCache } from './pipeline-cache.js';
import { shaderKeyString, type ShaderKey } from './specialize.js';
import type { OnLoadProgress } from '../progress.js';
import { loadTuning } from './tuning-cache.js';

/** A Dispatch with its buffers resolved, in binding order (the params uniform is added here). */
export interface BoundDispatch {
  dispatch: Dispatch;
  buffers: GPUBuffer[];
  label?: string;
}

export interface KernelTiming {
  label: string;
  kernel: string;
  ms: number;
}

const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST, without relying on Node globals
const UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST

/** The adapter's smallest subgroup size (older implementations do not report it: assume the WebGPU minimum, 4). */
function subgroupMinSize(adapter: GPUAdapter): number {
  return (adapter.info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 4;
}

/**
 * Mesa's lavapipe reports the architecture 'software'; Chromium's fallback adapter reports the vendor
 * 'google' and the architecture 'swiftshader', with no description.
 */
function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  return adapter.info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(adapterNames(adapter));
}

/** Chromium's SwiftShader, whose compiler keeps loops (see DeviceCaps.unrollLoops). */
function isSwiftShader(adapter: GPUAdapter): boolean {
  return /swiftshader/i.test(adapterNames(adapter));
}

/** The adapter's architecture, description and device names, where drivers put their own name. */
function adapterNames(adapter: GPUAdapter): string {
  const { architecture, description, device } = adapter.info;
  return `${architecture} ${description} ${device}`;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly description: string;
  /** @internal The limits plans are made against (the device's, or a test's emulated ones). */
  readonly caps: DeviceCaps;
  readonly maxBufferBytes: number;
  readonly hasTimestamps: boolean;
  /** @internal */
  readonly pipelines: PipelineCache;
  /** @internal */
  readonly pool: BufferPool;
  private uncaptured: GPUError[] = [];
  private lostReason?: string;
  private disposed = false;
  /** Every buffer made through this context and not yet destroyed, with its size: the live memory figure. */
  private readonly live = new Map<GPUBuffer, number>();
  /** Leases on the process's shared context (see GpuContext.shared); 0 for a context someone owns. */
  private leases = 0;

  private constructor(
    private readonly acquired: AcquiredDevice,
    capsOverride: Partial<DeviceCaps> = {},
  ) {
    const { adapter, device } = acquired;
    this.device = device;
    this.adapter = adapter;
    this.description = describeAdapter(adapter);
    this.caps = {
      maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      maxInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBindingBytes: device.limits.maxStorageBufferBindingSize,
      ...(device.features.has('subgroups' as GPUFeatureName) ? { subgroupMinSize: subgroupMinSize(adapter) } : {}),
      ...(isSoftwareAdapter(adapter) ? { software: true } : {}),
      ...(isSwiftShader(adapter) ? { unrollLoops: true } : {}),
      ...capsOverride,
    };
    this.maxBufferBytes = device.limits.maxBufferSize;
    this.hasTimestamps = device.features.has('timestamp-query');
    this.pipelines = new PipelineCache(device, { unroll: this.caps.unrollLoops === true });
    this.pool = new BufferPool(
      (size, usage) => this.createBuffer(size, 'pooled buffer', usage),
      (b) => this.destroyBuffer(b),
    );
    device.addEventListener('uncapturederror', (e) => this.uncaptured.push((e as GPUUncapturedErrorEvent).error));
    device.lost.then((info) => {
      if (!this.disposed) this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * `capsOverride` makes planning assume tighter limits than the device has, to emulate a smaller
   * device (Chromium's software adapter, a 128 MiB binding limit) on a bigger one.
   */
  static async create(
    options: DeviceOptions & { capsOverride?: Partial<DeviceCaps>; tuning?: boolean } = {},
  ): Promise<GpuContext> {
    const ctx = new GpuContext(await acquireDevice(options), options.capsOverride);
    // Variants tuned earlier on this adapter (webgpu-cnn tune), unless asked not to.
    if (options.tuning !== false && !options.capsOverride?.tuned) ctx.useTuning(await loadTuning(ctx.description));
    return ctx;
  }

  /**
   * The process's shared context (one per process or page), leased: each call adds a lease that
   * `release()` gives back. Loaders use it when no context is given, so loading and disposing many
   * models neither creates a device each time (Dawn does not give a destroyed device's memory back to
   * the process) nor keeps idle memory: when the last lease goes, pooled buffers are freed; the device
   * and its compiled pipelines stay for the next model (a live device does not keep Node from exiting).
   */
  static async shared(): Promise<GpuContext> {
    sharedContext ??= GpuContext.create().catch((e) => {
      sharedContext = undefined;
      throw e;
    });
    let ctx = await sharedContext;
    if (ctx.disposed || ctx.lostReason) {
      sharedContext = undefined;
      ctx = await GpuContext.shared();
      return ctx;
    }
    ctx.leases++;
    return ctx;
  }

  /** Gives back a lease taken with GpuContext.shared(); an owned context is disposed. */
  release(): void {
    if (this.leases === 0) {
      this.dispose();
      return;
    }
    if (--this.leases === 0) this.pool.trim();
  }

  /** Plans from now on use these variants where a shape class has one (see src/tools/tuner.ts). */
  useTuning(table: DeviceCaps['tuned']): void {
    this.caps.tuned = table && Object.keys(table).length ? table : undefined;
  }

  /** Throws if the device was lost or reported an error outside any scope. */
  checkHealthy(): void {
    if (this.disposed) throw new GpuError('GpuContext used after dispose()');
    if (this.lostReason) throw new GpuError(`WebGPU device lost (${this.lostReason})`);
    const err = this.uncaptured.shift();
    if (err) throw new GpuError(`WebGPU error: ${err.message}`);
  }

  /** A buffer counted in `liveBytes` until `destroyBuffer` (every buffer the library makes comes from here). */
  createBuffer(bytes: number, label: string, usage: GPUBufferUsageFlags = STORAGE): GPUBuffer {
    if (bytes > this.maxBufferBytes) {
      throw new TensorTooLargeError(
        `${label}: ${bytes} bytes exceeds the device's maxBufferSize of ${this.maxBufferBytes}`,
      );
    }
    const buffer = this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage, label });
    this.live.set(buffer, buffer.size);
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    this.live.delete(buffer);
    buffer.destroy();
  }

  /**
   * Bytes of GPU buffers this context holds now (weights, activations, pooled and staging buffers):
   * a measurement, not a plan.
   */
  get liveBytes(): number {
    let total = 0;
    for (const bytes of this.live.values()) total += bytes;
    return total;
  }

  /** How many GPU buffers this context holds now. */
  get liveBuffers(): number {
    return this.live.size;
  }

  /** A new storage buffer holding `data`; the caller owns it. */
  upload(data: Float32Array | Uint16Array, label: string): GPUBuffer {
    const buffer = this.createBuffer(data.byteLength, label);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /**
   * @internal Compiles the pipelines of `dispatches` that are not cached yet, telling `onProgress` as each is ready.
   */
  async compile(dispatches: Iterable<Dispatch>, onProgress?: OnLoadProgress): Promise<void> {
    const keys = new Map(
      [...dispatches].map((d): [string, ShaderKey] => [shaderKeyString(d), { kernel: d.kernel, spec: d.spec }]),
    );
    let done = 0;
    await Promise.all(
      [...keys.values()].map(async (key) => {
        await this.pipelines.compile(key);
        onProgress?.({ stage: 'compile', done: ++done, total: keys.size });
      }),
    );
  }

  /**
   * @internal The bind group of one dispatch: its buffers in binding order, then its params at `offset` in `uniform`.
   */
  bindGroup(bound: BoundDispatch, uniform: GPUBuffer, offset: number): GPUBindGroup {
    const { dispatch, buffers } = bound;
    if (buffers.length !== dispatch.bindings.length) {
      throw new Error(
        `${describeDispatch(dispatch)}: ${buffers.length} buffers for ${dispatch.bindings.length} bindings`,
      );
    }
    buffers.forEach((b, i) => {
      if (b.size > this.caps.maxStorageBindingBytes) {
        throw new TensorTooLargeError(
          `${bound.label ?? dispatch.kernel}: ${bindingName(dispatch.bindings[i])} ` +
            `(binding ${i} of ${dispatch.kernel}) is ${b.size} bytes, over the device's ` +
            `maxStorageBufferBindingSize of ${this.caps.maxStorageBindingBytes}`,
        );
      }
    });
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: uniform, offset, size: paramBytes(dispatch.kernel) } });
    return this.device.createBindGroup({ layout: this.pipelines.get(dispatch).getBindGroupLayout(0), entries });
  }

  /**
   * @internal Eager execution: compiles what is missing, records every dispatch in order (each its own timed step
   * with `profile`, when the adapter has timestamps), submits once and waits for validation.
   */
  async run(dispatches: BoundDispatch[], options: { profile?: boolean } = {}): Promise<KernelTiming[] | undefined> {
    this.checkHealthy();
    await this.compile(dispatches.map((b) => b.dispatch));
    const uniforms = dispatches.map((b) => {
      const u = this.pool.acquire(paramBytes(b.dispatch.kernel), UNIFORM);
      this.device.queue.writeBuffer(u, 0, packParams(b.dispatch.kernel, b.dispatch.params));
      return u;
    });
    let times: ReturnType<typeof recordSteps>;
    try {
      await this.scoped(() => {
        const encoder = this.device.createCommandEncoder();
        const steps = dispatches.map((b, i) => ({
          launches: [
            {
              pipeline: this.pipelines.get(b.dispatch),
              bindGroup: this.bindGroup(b, uniforms[i], 0),
              workgroups: b.dispatch.workgroups,
            },
          ],
        }));
        times = recordSteps(this, encoder, steps, !!options.profile);
        this.device.queue.submit([encoder.finish()]);
      });
    } catch (e) {
      times?.destroy();
      throw e;
    } finally {
      uniforms.forEach((u) => this.pool.release(u));
      this.pool.submitted();
    }
    if (!times) return undefined;
    const ms = await times.read();
    return dispatches.map((b, i) => ({ label: b.label ?? b.dispatch.kernel, kernel: b.dispatch.kernel, ms: ms[i] }));
  }

  /**
   * Runs `fn` (which encodes and submits work) inside validation and out-of-memory error scopes and
   * throws what they caught, so a bad bind group or an allocation failure surfaces here, not later.
   */
  async scoped<T>(fn: () => T): Promise<T> {
    this.checkHealthy();
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let failure: unknown;
    try {
      result = fn();
    } catch (e) {
      failure = e;
    }
    // Error scopes are one stack per device: both pops happen before any await, so a call running
    // beside this one can never push between them and take this call's errors (or give it its own).
    const [validation, oom] = await Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]);
    if (failure) throw failure;
    if (validation) throw new GpuError(`WebGPU validation error: ${validation.message}`);
    if (oom) throw new GpuError(`WebGPU out of memory: ${oom.message}`);
    this.checkHealthy();
    return result as T;
  }

  /** Copies `bytes` of a buffer back to the CPU. */
  async readBuffer(buffer: GPUBuffer, bytes: number, offset = 0): Promise<Float32Array> {
    this.checkHealthy();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.createBuffer(size, 'readback', 0x1 | 0x8); // MAP_READ | COPY_DST
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    this.pool.submitted();
    await staging.mapAsync(0x1);
    const out = new Float32Array(staging.getMappedRange(0, size).slice(0));
    staging.unmap();
    this.destroyBuffer(staging);
    this.checkHealthy();
    return out;
  }

  /** Destroys every buffer made through it and the device. Models and tensors on it are unusable after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (sharedContext && this.leases) sharedContext = undefined;
    this.pool.destroy();
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
    this.acquired.release();
  }
}

let sharedContext: Promise<GpuContext> | undefined;
