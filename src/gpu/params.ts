// A kernel's `struct Params` is the single source of truth for its uniform's layout (read from the
// WGSL by scripts/gen-shaders.mjs): callers pass named values, and a missing or unknown field is an
// error rather than a silently shifted buffer. Fields are scalar u32/i32/f32, so field i sits at byte 4*i.
import { KERNEL_INFO, kernelFile, type KernelName } from './shaders.js';

export type ParamType = 'u32' | 'i32' | 'f32';
export type ParamValues = Readonly<Record<string, number>>;
export interface ParamField {
  name: string;
  type: ParamType;
}

export function paramLayout(kernel: KernelName): readonly ParamField[] {
  return KERNEL_INFO[kernel].params;
}

/** Uniform buffers are bound in 16-byte units. */
export function paramBytes(kernel: KernelName): number {
  return Math.ceil((paramLayout(kernel).length * 4) / 16) * 16;
}

export function packParams(kernel: KernelName, values: ParamValues, into?: DataView): ArrayBuffer {
  const fields = paramLayout(kernel);
  const view = into ?? new DataView(new ArrayBuffer(paramBytes(kernel)));
  const extra = Object.keys(values).filter((k) => !fields.some((f) => f.name === k));
  if (extra.length) throw new Error(`${kernelFile(kernel)}: unknown Params field(s) ${extra.join(', ')}`);
  fields.forEach((f, i) => {
    const v = values[f.name];
    if (v === undefined) throw new Error(`${kernelFile(kernel)}: Params.${f.name} not given`);
    if (f.type === 'f32') view.setFloat32(i * 4, v, true);
    else {
      if (!Number.isInteger(v)) throw new Error(`${kernelFile(kernel)}: Params.${f.name} = ${v} is not an integer`);
      const ok = f.type === 'u32' ? v >= 0 && v <= 0xffffffff : v >= -0x80000000 && v <= 0x7fffffff;
      if (!ok) throw new Error(`${kernelFile(kernel)}: Params.${f.name} = ${v} is out of ${f.type} range`);
      if (f.type === 'u32') view.setUint32(i * 4, v, true);
      else view.setInt32(i * 4, v, true);
    }
  });
  return view.buffer as ArrayBuffer;
}
