// The benchmark's and the `kernels` command's op cases (src/tools/op-cases.ts), run here in check mode:
// each against an independent float64 reference on the same seeded inputs. One list, two modes.
import { suite } from 'uvu';
import { GpuContext } from '../src/gpu/context.js';
import type { Activation } from '../src/ops/activation.js';
import { caseInputs, opCases, setupCase, type OpSpec } from '../src/tools/op-cases.js';
import { assertClose, SWIFTSHADER_LIKE_CAPS, take, withGpu } from './harness.js';
import {
  refActivation,
  refBatchNorm,
  refConcat,
  refConv2d,
  refGemm,
  refGlobalPool,
  refPad,
  refPool2d,
  refSoftmax,
  refTranspose,
  refUpsample,
} from './reference.js';

const test = suite('op cases');
const gpu = withGpu(test);

const act = (a: Activation) => (v: number) =>
  a.kind === 'leaky'
    ? refActivation('relu', v, a.alpha)
    : a.kind === 'relu'
      ? refActivation('relu', v)
      : refActivation(a.kind, v);

/** The case's output in float64, and the tolerance (normalized for sums, absolute otherwise). */
function reference(spec: OpSpec): { y: ArrayLike<number>; tol: number; mode: 'abs' | 'normalized' } {
  const { x, w, b } = caseInputs(spec);
  switch (spec.kind) {
    case 'gemm':
      return { y: refGemm(x, w!, spec.m, spec.k, spec.n, spec.transB), tol: 1e-5, mode: 'normalized' };
    case 'conv2d': {
      const a = spec.attrs;
      const padding = a.padding as 'same' | 'valid' | [number, number, number, number] | undefined;
      const strides = a.strides && ([...a.strides] as [number, number]);
      const y = refConv2d({
        x,
        xShape: spec.x,
        w: w!,
        wShape: spec.w,
        b,
        strides,
        padding,
        groups: a.groups,
        act: a.activation && act(a.activation),
      }).y;
      return { y, tol: 1e-5, mode: 'normalized' };
    }
    case 'pool2d': {
      const p = spec.attrs;
      const y = refPool2d(
        x,
        spec.x,
        p.kind,
        [...p.size],
        [...(p.strides ?? p.size)],
        (p.padding ?? 'valid') as 'same' | 'valid',
      ).y;
      return { y, tol: p.kind === 'max' ? 0 : 1e-6, mode: 'abs' };
    }
    case 'global-pool':
      return { y: refGlobalPool(x, spec.x, spec.pool), tol: 1e-6, mode: 'abs' };
    case 'batchnorm': {
      const p = spec.params;
      return {
        y: refBatchNorm(x, spec.x, 3, p.gamma!, p.beta!, p.mean, p.variance, p.epsilon).map(act(spec.activation)),
        tol: 1e-5,
        mode: 'abs',
      };
    }
    case 'activation':
      return { y: Float64Array.from(x, act(spec.activation)), tol: 1e-6, mode: 'abs' };
    case 'add':
      return { y: Float64Array.from(x, (v) => act(spec.activation)(2 * v)), tol: 0, mode: 'abs' };
    case 'softmax':
      return { y: refSoftmax(x, spec.x[spec.x.length - 1]), tol: 1e-6, mode: 'abs' };
    case 'concat':
      return {
        y: refConcat(
          [
            { x, shape: spec.x },
            { x, shape: spec.x },
          ],
          spec.x.length - 1,
        ),
        tol: 0,
        mode: 'abs',
      };
    case 'slice': {
      const c = spec.x[spec.x.length - 1];
      return { y: x.filter((_, i) => i % c >= spec.begin && i % c < spec.begin + spec.size), tol: 0, mode: 'abs' };
    }
    case 'upsample':
      return { y: refUpsample(x, spec.x, ...spec.factors), tol: 0, mode: 'abs' };
    case 'pad':
      return { y: refPad(x, spec.x, spec.pads), tol: 0, mode: 'abs' };
    case 'transpose':
      return { y: refTranspose(x, spec.x, spec.perm), tol: 0, mode: 'abs' };
  }
}

async function check(ctx: GpuContext, c: ReturnType<typeof opCases>[number]) {
  const op = setupCase(ctx, c.spec);
  try {
    const ref = reference(c.spec);
    assertClose(await take(await op.run()), ref.y, ref.tol, c.name, ref.mode);
  } finally {
    op.dispose();
  }
}

for (const c of opCases('small')) {
  test(`${c.name} matches its float64 reference`, async () => check(await gpu(), c));
}

// The same cases planned as for Chromium's SwiftShader: no subgroups, the software tiles, and every
// kernel's @unroll loops written out (run here on this machine's adapter).
let swiftshaderLike: Promise<GpuContext> | undefined;
test.after(async () => (await swiftshaderLike)?.dispose());
for (const c of opCases('small')) {
  test(`${c.name}, planned and unrolled as for SwiftShader, matches its float64 reference`, async () => {
    swiftshaderLike ??= GpuContext.create({ capsOverride: SWIFTSHADER_LIKE_CAPS });
    await check(await swiftshaderLike, c);
  });
}

test.run();
