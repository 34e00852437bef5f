// ONNX Runtime Web's WebGPU execution provider as a peer, on the same Dawn adapter: it runs the same
// optimized graph exported to ONNX with identical weights (bench/onnx-export.ts). Dev-only.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WeightedGraph } from '../src/graph/ir.js';
import { toOnnx } from './onnx-export.js';

type Ort = typeof import('onnxruntime-web');

let ortPromise: Promise<Ort> | undefined;

/**
 * ONNX Runtime Web in Node: its package maps Node to the wasm-only build, so the WebGPU build is
 * imported by path; it finds the GPU through navigator.gpu; and Dawn's writeBuffer rejects views of
 * the SharedArrayBuffer that ORT's wasm memory lives in, so such data is copied first.
 */
export function loadOrtWebgpu(gpu: GPU): Promise<Ort> {
  return (ortPromise ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GPU } };
    g.navigator ??= {};
    g.navigator.gpu ??= gpu;
    const writeBuffer = GPUQueue.prototype.writeBuffer;
    GPUQueue.prototype.writeBuffer = function (
      this: GPUQueue,
      buffer: GPUBuffer,
      offset: number,
      data: BufferSource | SharedArrayBuffer,
      dataOffset?: number,
      size?: number,
    ) {
      if (ArrayBuffer.isView(data) && (data.buffer as unknown) instanceof SharedArrayBuffer) {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
        const copy = new (data.constructor as new (b: ArrayBuffer) => ArrayBufferView)(bytes.buffer);
        return writeBuffer.call(this, buffer, offset, copy as BufferSource, dataOffset, size);
      }
      return writeBuffer.call(this, buffer, offset, data as BufferSource, dataOffset, size);
    } as typeof writeBuffer;
    // The package's Node entry point is in dist/ beside the WebGPU build.
    const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
    const ort = (await import(/* @vite-ignore */ pathToFileURL(join(dist, 'ort.webgpu.min.mjs')).href)) as Ort;
    ort.env.wasm.numThreads = 1; // the CPU cores are lavapipe's; ORT's CPU work is only glue here
    ort.env.logLevel = 'error';
    return ort;
  })());
}

/**
 * ORT assigns a node its provider can't run to the CPU without failing. Its verbose log at session
 * creation lists the placements: a throwaway session reads them so that a CPU fallback fails the
 * row instead of timing a mix of CPU and GPU.
 */
async function checkAllOnWebgpu(ort: Ort, model: Uint8Array): Promise<void> {
  // ORT's wasm glue prints with require('fs').writeSync(2, …), looked up at each call: capture there.
  const lines: string[] = [];
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const writeSync = fs.writeSync;
  fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 2 && typeof data === 'string') return (lines.push(data), data.length);
    return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof writeSync;
  try {
    const probe = await ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 0,
      logVerbosityLevel: 0,
    });
    await probe.release();
  } finally {
    fs.writeSync = writeSync;
  }
  const placements = lines.filter((l) => /placed on|VerifyEachNodeIsAssignedToAnEp/.test(l));
  if (!placements.some((l) => l.includes('All nodes placed on [WebGpuExecutionProvider]'))) {
    const placed = placements.map((l) => l.replace(/^.*\] /, '')).join('; ');
    throw new Error(`ONNX Runtime did not place every node on WebGPU: ${placed || 'no placement log'}`);
  }
}

/** What ONNX Runtime Web and ONNX Runtime for Node share (onnxruntime-common's API). */
type OrtApi = Pick<Ort, 'InferenceSession' | 'Tensor'>;

export interface OrtRunner {
  run(x: Float32Array, batch: number): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** A session of `provider` on the exported model, run as the graph's input and outputs. */
export async function ortRunner(
  ort: OrtApi,
  g: WeightedGraph,
  model: Uint8Array,
  provider: string,
): Promise<OrtRunner> {
  const { graph } = g;
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  const shape = graph.nodes.find((n) => n.name === graph.inputs[0])!.op as { shape: number[] };
  return {
    async run(x: Float32Array, batch: number) {
      const out = await session.run({ [graph.inputs[0]]: new ort.Tensor('float32', x, [batch, ...shape.shape]) });
      return graph.outputs.map((o) => out[o].data as Float32Array);
    },
    dispose: () => session.release(),
  };
}

/** Exports the graph to ONNX, checks every node runs on WebGPU, opens a session and returns a runner. */
export async function ortGraph(ort: Ort, g: WeightedGraph): Promise<OrtRunner> {
  const model = toOnnx(g);
  await checkAllOnWebgpu(ort, model);
  return ortRunner(ort, g, model, 'webgpu');
}
