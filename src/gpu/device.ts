// The only code that knows where WebGPU comes from: `navigator.gpu` in browsers, Dawn (npm `webgpu`)
// in Node. Everything else receives a GPUDevice.
import { isNode } from '../env.js';
import { GpuError } from '../errors.js';

/**
 * Dawn's GPU object. It must stay referenced while any device made from it lives: once it is
 * garbage-collected Dawn crashes the process inside createComputePipelineAsync. Dropped again by
 * releaseNodeGpu() so that Node can exit.
 */
let nodeGpu: GPU | undefined;
let nodeGpuUsers = 0;

async function gpuEntryPoint(): Promise<GPU> {
  if (typeof navigator !== 'undefined' && navigator.gpu) return navigator.gpu;
  if (!isNode) {
    throw new GpuError(
      'WebGPU is not available: navigator.gpu is missing (in Chrome, enable WebGPU or use a recent version)',
    );
  }
  if (!nodeGpu) {
    // Mesa's software Vulkan (lavapipe/llvmpipe) runs workgroups on LP_NUM_THREADS threads, one per
    // core by default. Its compute threads mostly wait on memory, so oversubscribing hides latency:
    // on a 2-core machine 8 threads made GEMM 1024³ 1.4× faster than the default, and 16 gained
    // nothing more (README, "Software adapters"). Read when the driver loads, so set before create();
    // other drivers ignore it, and a value the user set wins.
    process.env.LP_NUM_THREADS ??= '8';
    // A computed specifier keeps browser bundlers from trying to resolve the Node-only package.
    const pkg = 'webgpu';
    const { create, globals } = await import(/* @vite-ignore */ pkg);
    Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, … as in a browser
    nodeGpu = create([]) as GPU;
  }
  nodeGpuUsers++;
  return nodeGpu;
}

function releaseNodeGpu(): void {
  if (nodeGpu && --nodeGpuUsers === 0) nodeGpu = undefined;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Undo the acquisition: destroys the device and lets Dawn go. */
  release(): void;
}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Features to enable when the adapter has them (timestamp-query, shader-f16 and subgroups by default). */
  optionalFeatures?: GPUFeatureName[];
}

const LIMIT_NAMES = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
] as const;

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const gpu = await gpuEntryPoint();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (e) {
    releaseNodeGpu();
    throw e;
  }
  if (!adapter) {
    releaseNodeGpu();
    throw new GpuError(
      'No WebGPU adapter found. In Node on Linux run `bash scripts/setup-adapter.sh` (installs Mesa lavapipe); ' +
        'in a browser, enable WebGPU.',
    );
  }
  // Ask for what the adapter really has: defaults would cap a binding at 128 MiB and a buffer at 256 MiB.
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  const wanted = options.optionalFeatures ?? ['timestamp-query', 'shader-f16', 'subgroups' as GPUFeatureName];
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  let released = false;
  return {
    adapter,
    device,
    release() {
      if (released) return;
      released = true;
      device.destroy();
      releaseNodeGpu();
    },
  };
}

export function describeAdapter(adapter: GPUAdapter): string {
  const { vendor, architecture, device, description } = adapter.info;
  return [vendor, architecture, device, description].filter(Boolean).join(' / ') || 'unknown adapter';
}
