// The one specialisation mechanism: module-scope lines `const NAME: TYPE = VALUE; // @spec` are
// rewritten in place with the requested values. Line numbers never move, so compiler messages point
// into the .wgsl file; `// @requires NAME` libraries are appended after the kernel for the same reason.
// The spec F16 = 1 switches a kernel's weights to half precision, also line for line: the line
// `// @enable-f16` becomes `enable f16;` and each `alias NAME = f32; // @f16` becomes an f16 alias.
// Where the device asks (DeviceCaps.unrollLoops), loops marked `// @unroll` are then written out
// (unroll.ts), their copies on the loop's first line.
import { COMMON, KERNELS, kernelFile, type KernelName } from './shaders.js';
import { unrollLoops } from './unroll.js';

export type Spec = Readonly<Record<string, number>>;

/** What the specialiser receives; the pipeline cache key is derived from exactly this object. */
export interface ShaderKey {
  kernel: KernelName;
  spec: Spec;
}

const SPEC_LINE = /^const\s+([A-Z][A-Z0-9_]*)\s*:\s*(u32|i32|f32)\s*=\s*[^;]+;\s*\/\/\s*@spec\b.*$/;
const REQUIRES_LINE = /^\s*\/\/\s*@requires\s+([\w-]+)\s*$/;
const ENABLE_F16_LINE = /^\/\/\s*@enable-f16\s*$/;
const F16_ALIAS_LINE = /^alias\s+([A-Z][A-Z0-9_]*)\s*=\s*f32;\s*\/\/\s*@f16\b.*$/;

export function shaderKeyString(key: ShaderKey): string {
  const spec = Object.keys(key.spec)
    .sort()
    .map((k) => `${k}=${key.spec[k]}`)
    .join(',');
  return `${key.kernel}{${spec}}`;
}

function literal(name: string, type: string, value: number): string {
  if (!Number.isFinite(value)) throw new Error(`spec ${name}: ${value} is not a finite number`);
  if (type === 'f32') return `${value}f`;
  if (!Number.isInteger(value) || (type === 'u32' && value < 0)) {
    throw new Error(`spec ${name}: ${value} is not a valid ${type}`);
  }
  return type === 'u32' ? `${value}u` : `${value}i`;
}

export interface SpecializedSource {
  code: string;
  /** Maps a line of `code` (1-based) back to the file it came from. */
  locate(line: number): { file: string; line: number };
}

export interface SpecializeOptions {
  /** Write out the kernel's `// @unroll` loops (for a compiler that would run them as loops). */
  unroll?: boolean;
}

export function specialize(key: ShaderKey, options: SpecializeOptions = {}): SpecializedSource {
  const file = kernelFile(key.kernel);
  const lines = KERNELS[key.kernel].split('\n');
  const unused = new Set(Object.keys(key.spec));
  const requires: string[] = [];
  const f16 = key.spec.F16;
  if (f16 !== undefined) {
    if (f16 !== 0 && f16 !== 1) throw new Error(`spec F16: ${f16} is not 0 or 1`);
    if (!lines.some((l) => ENABLE_F16_LINE.test(l))) throw new Error(`${file}: has no f16 variant (spec F16)`);
    unused.delete('F16');
  }
  for (let i = 0; i < lines.length; i++) {
    if (f16 === 1 && ENABLE_F16_LINE.test(lines[i])) lines[i] = 'enable f16;';
    const alias = F16_ALIAS_LINE.exec(lines[i]);
    if (f16 === 1 && alias) lines[i] = `alias ${alias[1]} = f16; // @f16`;
    const req = REQUIRES_LINE.exec(lines[i]);
    if (req) requires.push(req[1]);
    const m = SPEC_LINE.exec(lines[i]);
    if (!m || !(m[1] in key.spec)) continue;
    lines[i] = `const ${m[1]}: ${m[2]} = ${literal(m[1], m[2], key.spec[m[1]])}; // @spec`;
    unused.delete(m[1]);
  }
  if (unused.size) throw new Error(`${file}: unknown spec constant(s) ${[...unused].join(', ')}`);

  const parts = [{ file, start: 1, count: lines.length }];
  let code = options.unroll ? unrollLoops(lines.join('\n'), file) : lines.join('\n');
  for (const name of requires) {
    const lib = COMMON[name];
    if (lib === undefined) throw new Error(`${file}: @requires unknown library '${name}'`);
    const start = parts[parts.length - 1].start + parts[parts.length - 1].count;
    parts.push({ file: `shaders/common/${name}.wgsl`, start, count: lib.split('\n').length });
    code += `\n${lib}`;
  }
  return {
    code,
    locate(line) {
      const part = [...parts].reverse().find((p) => line >= p.start) ?? parts[0];
      return { file: part.file, line: line - part.start + 1 };
    },
  };
}
