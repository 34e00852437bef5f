// Recording dispatches, shared by eager calls and models: all steps in one compute pass, or, when
// profiling, one pass per step with GPU timestamps at its start and end, resolved into a buffer that
// `read()` maps after the submit.
import type { GpuContext } from './context.js';

export interface Launch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** What one timing covers: a model layer, or one eager call. */
export interface RecordedStep {
  launches: Launch[];
}

export interface StepTimes {
  /** Milliseconds of GPU time per step, after the submit that carried the commands. */
  read(): Promise<number[]>;
  destroy(): void;
}

const MAP_READ = 0x1 | 0x8; // MAP_READ | COPY_DST
const QUERY_RESOLVE = 0x200 | 0x4; // QUERY_RESOLVE | COPY_SRC

/** Records `steps` into `encoder`; with `profile` (and an adapter with timestamp queries) returns their times. */
export function recordSteps(
  ctx: GpuContext,
  encoder: GPUCommandEncoder,
  steps: RecordedStep[],
  profile: boolean,
): StepTimes | undefined {
  const timed = profile && ctx.hasTimestamps && steps.length > 0;
  if (!timed) {
    const pass = encoder.beginComputePass();
    for (const step of steps) for (const l of step.launches) launch(pass, l);
    pass.end();
    return undefined;
  }
  const querySet = ctx.device.createQuerySet({ type: 'timestamp', count: 2 * steps.length });
  steps.forEach((step, i) => {
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    for (const l of step.launches) launch(pass, l);
    pass.end();
  });
  const bytes = 16 * steps.length;
  const resolved = ctx.createBuffer(bytes, 'timestamps', QUERY_RESOLVE);
  const readback = ctx.createBuffer(bytes, 'timestamp readback', MAP_READ);
  encoder.resolveQuerySet(querySet, 0, 2 * steps.length, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    querySet.destroy();
    ctx.destroyBuffer(resolved);
    ctx.destroyBuffer(readback);
  };
  return {
    async read() {
      await readback.mapAsync(0x1);
      const ticks = new BigInt64Array(readback.getMappedRange(0, bytes).slice(0));
      readback.unmap();
      destroy();
      return steps.map((_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
    },
    destroy,
  };
}

function launch(pass: GPUComputePassEncoder, l: Launch): void {
  pass.setPipeline(l.pipeline);
  pass.setBindGroup(0, l.bindGroup);
  pass.dispatchWorkgroups(...l.workgroups);
}
