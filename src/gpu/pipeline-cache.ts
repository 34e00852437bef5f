// Pipelines keyed by exactly the ShaderKey the specialiser compiles, compiled with
// createComputePipelineAsync so a model's pipelines build in parallel.
import { GpuError } from './errors.js';
import { shaderKeyString, specialize, type ShaderKey, type SpecializeOptions } from './specialize.js';

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly ready = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly options: SpecializeOptions = {},
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** Compiles every key not yet compiled, all at once; rejects with the first compiler error. */
  compile(key: ShaderKey): Promise<GPUComputePipeline> {
    const id = shaderKeyString(key);
    let p = this.pipelines.get(id);
    if (!p) {
      p = this.build(key, id);
      this.pipelines.set(id, p);
      // A failed compile is not cached: the next request reports it again.
      p.catch(() => this.pipelines.delete(id));
    }
    return p;
  }

  /** The compiled pipeline; compile() must have finished for this key. */
  get(key: ShaderKey): GPUComputePipeline {
    const p = this.ready.get(shaderKeyString(key));
    if (!p) throw new Error(`pipeline ${shaderKeyString(key)} used before it was compiled`);
    return p;
  }

  private async build(key: ShaderKey, id: string): Promise<GPUComputePipeline> {
    const src = specialize(key, this.options);
    // Each error scope is pushed and popped with no await between: pipelines compile concurrently, and
    // the device has one scope stack, so an await there would let another build pop this one's scope.
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: src.code, label: id });
    const moduleScope = this.device.popErrorScope();
    const info = await module.getCompilationInfo();
    const scopeError = await moduleScope;
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || scopeError) {
      const lines = errors.map((m) => {
        const at = src.locate(m.lineNum);
        return `${at.file}:${at.line}:${m.linePos}: ${m.message}`;
      });
      throw new GpuError(`WGSL compilation failed for ${id}:\n${lines.join('\n') || scopeError?.message}`);
    }
    this.device.pushErrorScope('validation');
    const pending = this.device.createComputePipelineAsync({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
      label: id,
    });
    const pipelineScope = this.device.popErrorScope();
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await pending;
    } catch (e) {
      await pipelineScope;
      throw new GpuError(`pipeline ${id} (${src.locate(1).file}): ${(e as Error).message}`);
    }
    const err = await pipelineScope;
    if (err) throw new GpuError(`pipeline ${id} (${src.locate(1).file}): ${err.message}`);
    this.ready.set(id, pipeline);
    return pipeline;
  }
}
