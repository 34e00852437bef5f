// Shared test helpers: one GPU context per test process, seeded data, and a tolerance check that
// always reports the max abs error.
import type { Test } from 'uvu';
import { GpuContext } from '../src/gpu/context.js';
import { Tensor } from '../src/tensor.js';

let ctx: Promise<GpuContext> | undefined;
let users = 0;

/** Registers before/after hooks so the suite shares the process's context and Node can exit after. */
export function withGpu(s: Test): () => Promise<GpuContext> {
  s.before(() => {
    users++;
  });
  s.after(async () => {
    if (--users === 0 && ctx) {
      (await ctx).dispose();
      ctx = undefined;
    }
  });
  return () => (ctx ??= GpuContext.create());
}

// The project's one seeded generator (src/random.ts).
export { randomArray, rng } from '../src/random.js';
import { compareArrays, type ErrorMetrics } from '../src/metrics.js';

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Plans as for Chromium's SwiftShader on this machine's adapter: no subgroups, software tiles, @unroll written out. */
export const SWIFTSHADER_LIKE_CAPS = { subgroupMinSize: 0, software: true, unrollLoops: true } as const;

export type Closeness = ErrorMetrics;

/** The project's error metric (src/metrics.ts). */
export const closeness = compareArrays;

/** Throws with the max abs error, the worst element and the tolerance when `actual` is not close. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  label: string,
  mode: 'abs' | 'normalized' = 'abs',
): Closeness {
  const c = closeness(actual, expected);
  const err = mode === 'abs' ? c.maxAbs : c.normalized;
  if (!(err <= tol)) {
    const i = c.worstIndex;
    throw new Error(
      `${label}: max abs error ${c.maxAbs.toExponential(3)} (${mode} ${err.toExponential(3)} > tol ${tol}); ` +
        `worst at [${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
  return c;
}

export function upload(c: GpuContext, data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return Tensor.fromArray(c, Float32Array.from(data), shape);
}

/** Reads and disposes. */
export async function take(t: Tensor): Promise<Float32Array> {
  try {
    return await t.read();
  } finally {
    t.dispose();
  }
}

/** Awaits `p` (or calls it) and checks it fails with a message matching `pattern` (and of `type`). */
export async function rejects(
  p: Promise<unknown> | (() => unknown),
  pattern: RegExp,
  type?: new (...a: never[]) => Error,
) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (type && !(e instanceof type))
      throw new Error(`expected ${type.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    if (pattern.test(String((e as Error).message))) return;
    throw new Error(`error message ${JSON.stringify((e as Error).message)} does not match ${pattern}`);
  }
  throw new Error(`expected an error matching ${pattern}`);
}
