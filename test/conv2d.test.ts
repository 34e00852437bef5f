import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import { GpuContext } from '../src/gpu/context.js';
import * as assert from 'uvu/assert';
import type { DeviceCaps, TileVariant } from '../src/gpu/dispatch.js';
import { conv2dRoute, lowerConv2d, type Conv2dAttrs, type Conv2dVariant } from '../src/ops/conv2d.js';
import type { Activation } from '../src/ops/activation.js';
import { assertClose, prod, randomArray, take, upload, withGpu } from './harness.js';
import { refActivation, refConv2d } from './reference.js';

/** The dispatches a direct (non-Winograd) conv lowers to. */
const convDispatches = (x: number[], w: number[], attrs: Conv2dAttrs, caps: DeviceCaps, variant?: TileVariant) =>
  lowerConv2d(
    { kernelShape: w as [number, number, number, number], attrs },
    { caps, inputs: [x], winograd: false, variant },
  ).dispatches;

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  oc: number;
  strides?: [number, number];
  dilations?: [number, number];
  padding?: 'same' | 'valid' | [number, number, number, number];
  groups?: number;
  bias?: boolean;
  act?: Activation;
  tol?: number;
}

const test = suite('conv2d');
const gpu = withGpu(test);

async function check(c: ConvCase, seed: number) {
  const ctx = await gpu();
  const groups = c.groups ?? 1;
  const wShape = [c.k[0], c.k[1], c.x[3] / groups, c.oc];
  const x = randomArray(prod(c.x), seed);
  const w = randomArray(prod(wShape), seed + 1);
  const b = c.bias === false ? undefined : randomArray(c.oc, seed + 2);
  const act = c.act ?? { kind: 'linear' as const };
  const refAct = (v: number) => refActivation(act.kind, v, 'alpha' in act ? act.alpha : 0);
  const ref = refConv2d({
    x,
    xShape: c.x,
    w,
    wShape,
    b,
    strides: c.strides,
    dilations: c.dilations,
    padding: c.padding,
    groups,
    act: refAct,
  });
  const attrs: Conv2dAttrs = {
    strides: c.strides,
    dilations: c.dilations,
    padding: c.padding,
    groups,
    activation: act,
  };
  const xt = upload(ctx, x, c.x),
    wt = upload(ctx, w, wShape),
    bt = b ? upload(ctx, b, [c.oc]) : null;
  const y = await ops.conv2d(xt, wt, bt, attrs);
  if (y.shape.join() !== ref.shape.join()) throw new Error(`${c.name}: shape [${y.shape}] != reference [${ref.shape}]`);
  const got = await take(y);
  [xt, wt, bt].forEach((t) => t?.dispose());
  const route = conv2dRoute(c.x, wShape, attrs);
  assertClose(got, ref.y, c.tol ?? 2e-5, `${c.name} (${route})`, 'normalized');
}

// Literal cases pin conventions and each route.
const cases: ConvCase[] = [
  {
    name: "TF 'same' puts the odd pad bottom/right (4x4, k3, s2)",
    x: [1, 4, 4, 2],
    k: [3, 3],
    oc: 3,
    strides: [2, 2],
    padding: 'same',
  },
  { name: "'same' with even kernel 4x4", x: [1, 6, 5, 3], k: [4, 4], oc: 5, padding: 'same' },
  { name: 'explicit asymmetric pads', x: [2, 7, 6, 3], k: [3, 2], oc: 4, padding: [2, 0, 1, 3] },
  { name: '1x1 conv runs as GEMM', x: [3, 9, 7, 17], k: [1, 1], oc: 33, act: { kind: 'relu' } },
  { name: '1x1 strided conv stays implicit GEMM', x: [1, 9, 7, 8], k: [1, 1], oc: 8, strides: [2, 2] },
  { name: 'depthwise, multiplier 1', x: [2, 9, 9, 17], k: [3, 3], oc: 17, groups: 17, padding: 'same' },
  {
    name: 'depthwise, multiplier 3, stride 2',
    x: [1, 10, 11, 5],
    k: [3, 3],
    oc: 15,
    groups: 5,
    strides: [2, 2],
    padding: 'same',
    act: { kind: 'relu6' },
  },
  {
    name: 'depthwise in channel quads, 4 pixels per invocation, ragged width',
    x: [2, 9, 10, 12],
    k: [3, 3],
    oc: 12,
    groups: 12,
    padding: 'same',
    act: { kind: 'relu' },
  },
  {
    name: 'depthwise in quads, stride 2, dilation 2, explicit pads',
    x: [1, 13, 11, 8],
    k: [3, 3],
    oc: 8,
    groups: 8,
    strides: [2, 2],
    dilations: [2, 2],
    padding: [2, 1, 0, 3],
  },
  {
    name: 'depthwise in quads, 5×3 kernel, valid, one column out',
    x: [1, 7, 3, 4],
    k: [5, 3],
    oc: 4,
    groups: 4,
    padding: 'valid',
  },
  { name: 'grouped (4 groups of 16)', x: [1, 8, 8, 64], k: [3, 3], oc: 64, groups: 4, padding: 'same' },
  { name: 'grouped with odd group width', x: [1, 7, 7, 6], k: [3, 3], oc: 9, groups: 3 },
  {
    name: 'no bias, leaky 0.1 (Darknet)',
    x: [1, 13, 13, 16],
    k: [3, 3],
    oc: 32,
    padding: 'same',
    bias: false,
    act: { kind: 'leaky', alpha: 0.1 },
  },
  {
    name: 'channels 64 → 64, 3x3 VGG-style, oc not a tile multiple',
    x: [1, 14, 14, 64],
    k: [3, 3],
    oc: 62,
    padding: 'same',
    act: { kind: 'relu' },
  },
  {
    name: 'wide conv (TN16 default), oc 200 not a multiple of 128, batch 2',
    x: [2, 9, 11, 24],
    k: [3, 3],
    oc: 200,
    padding: 'same',
    act: { kind: 'relu' },
  },
  { name: 'wide 1x1 conv (GEMM TN16), oc 130', x: [1, 10, 9, 40], k: [1, 1], oc: 130 },
  { name: 'kernel larger than input with same padding', x: [1, 3, 3, 2], k: [5, 5], oc: 3, padding: 'same' },
];
cases.forEach((c, i) => test(c.name, () => check(c, 100 + i)));

test('depthwise convs with channels in quads take the vec4 kernel, others the scalar one', () => {
  const caps = { maxWorkgroupsPerDimension: 65535, maxInvocationsPerWorkgroup: 256, maxStorageBindingBytes: 1 << 27 };
  assert.is(convDispatches([1, 9, 10, 12], [3, 3, 1, 12], { groups: 12 }, caps)[0].kernel, 'depthwise-conv2d-vec4');
  assert.is(convDispatches([1, 9, 10, 17], [3, 3, 1, 17], { groups: 17 }, caps)[0].kernel, 'depthwise-conv2d');
  // Multiplier 2.
  assert.is(convDispatches([1, 9, 10, 4], [3, 3, 1, 8], { groups: 4 }, caps)[0].kernel, 'depthwise-conv2d');
});

// Generated sweep: every kernel size × stride × dilation × padding mode, rotating batch, channels and groups.
const CHANNELS = [1, 3, 17, 64];
const sweep: ConvCase[] = [];
let n = 0;
for (let k = 1; k <= 7; k++)
  for (let s = 1; s <= 3; s++)
    for (let d = 1; d <= 3; d++)
      for (const mode of ['valid', 'same', 'explicit'] as const) {
        if (k === 1 && d > 1) continue; // dilation is meaningless for a 1-wide kernel
        const c = CHANNELS[n % 4];
        const kw = k === 2 ? 3 : k; // one non-square kernel shape per row
        const span = (Math.max(k, kw) - 1) * d + 1;
        const h = span + (n % 5),
          w = span + ((n * 3) % 7) + 1;
        const batch = n % 3 === 0 ? 3 : 1;
        const depthwise = n % 7 === 3 && c > 1;
        const oc = depthwise ? c * (1 + (n % 2)) : CHANNELS[(n + 1) % 4] + (n % 3);
        const padding =
          mode === 'explicit' ? ([n % 3, (n + 1) % 2, (n + 2) % 3, n % 2] as [number, number, number, number]) : mode;
        sweep.push({
          name: `sweep k${k} s${s} d${d} ${mode} n${batch} c${c}→${oc}${depthwise ? ' depthwise' : ''}`,
          x: [batch, h, w, c],
          k: [k, kw],
          oc,
          strides: [s, s === 3 ? 2 : s],
          dilations: [d, d],
          padding,
          groups: depthwise ? c : 1,
          act: n % 2 ? { kind: 'relu' } : undefined,
          tol: 5e-5,
        });
        n++;
      }
sweep.forEach((c, i) => test(c.name, () => check(c, 1000 + i)));

// Every register-blocking specialisation computes the same conv, including odd sizes and groups.
const VARIANTS: Conv2dVariant[] = [
  { tm: 1, tn: 1, wgX: 64, wgY: 1 },
  { tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { tm: 2, tn: 8, wgX: 16, wgY: 4 },
  { tm: 8, tn: 8, wgX: 16, wgY: 16 },
  { tm: 4, tn: 2, wgX: 4, wgY: 16 },
];
for (const v of VARIANTS) {
  test(`variant TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}`, async () => {
    const ctx = await gpu();
    const xShape = [2, 11, 9, 12],
      wShape = [3, 3, 12, 37];
    const x = randomArray(prod(xShape), 7),
      w = randomArray(prod(wShape), 8),
      b = randomArray(37, 9);
    const ref = refConv2d({ x, xShape, w, wShape, b, strides: [2, 1], padding: 'same' });
    const got = await take(
      await ops.conv2d(
        upload(ctx, x, xShape),
        upload(ctx, w, wShape),
        upload(ctx, b, [37]),
        { strides: [2, 1], padding: 'same' },
        { variant: v },
      ),
    );
    assertClose(got, ref.y, 2e-5, 'variant', 'normalized');
  });
}

// The subgroup kind (input values shared by broadcast) at each candidate tile, with a stride, a
// dilation and explicit padding; oc = 36 is whole quads, 37 is not and must fall back to the
// register kind. Without subgroups of ≥ 8 lanes every case falls back, and is checked the same way.
const SUBGROUP_VARIANTS: Conv2dVariant[] = [
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 8, tn: 1, wgX: 16, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 2, wgX: 8, wgY: 1 },
];
for (const v of SUBGROUP_VARIANTS) {
  for (const oc of [36, 37]) {
    test(`subgroup variant TM${v.tm} TN${v.tn} WG${v.wgX}, oc ${oc}`, async () => {
      const ctx = await gpu();
      const xShape = [2, 11, 9, 12],
        wShape = [3, 3, 12, oc];
      const x = randomArray(prod(xShape), 17),
        w = randomArray(prod(wShape), 18),
        b = randomArray(oc, 19);
      const attrs: Conv2dAttrs = {
        strides: [2, 1],
        dilations: [1, 2],
        padding: [1, 2, 0, 3],
        activation: { kind: 'relu' },
      };
      const ref = refConv2d({
        x,
        xShape,
        w,
        wShape,
        b,
        strides: [2, 1],
        dilations: [1, 2],
        padding: [1, 2, 0, 3],
        act: (q) => Math.max(q, 0),
      });
      const got = await take(
        await ops.conv2d(upload(ctx, x, xShape), upload(ctx, w, wShape), upload(ctx, b, [oc]), attrs, { variant: v }),
      );
      assertClose(got, ref.y, 2e-5, 'subgroup variant', 'normalized');
    });
  }
}

test('a grid taller than the device allows folds into z (emulated limit of 5 workgroups per dimension)', async () => {
  const small = await GpuContext.create({ capsOverride: { maxWorkgroupsPerDimension: 5 } });
  try {
    // 2×9×11 = 198 output pixels: 25 y blocks of 8 (register) and 13 of 16 (subgroup), both past 5.
    const xShape = [2, 9, 11, 12],
      wShape = [3, 3, 12, 16];
    const x = randomArray(prod(xShape), 27),
      w = randomArray(prod(wShape), 28),
      b = randomArray(16, 29);
    const ref = refConv2d({ x, xShape, w, wShape, b, padding: 'same' });
    const variants: Conv2dVariant[] = [
      { tm: 8, tn: 4, wgX: 4, wgY: 1 },
      { kind: 'subgroup', tm: 16, tn: 1, wgX: 8, wgY: 1 },
    ];
    for (const variant of variants) {
      const [d] = convDispatches(xShape, wShape, { padding: 'same' }, small.caps, variant);
      // Without subgroups of 8 lanes (Chromium's SwiftShader) the subgroup variant falls back to a tile whose grid
      // may fit.
      const fellBack = variant.kind === 'subgroup' && d.kernel !== 'conv2d-subgroup';
      assert.ok(
        d.workgroups.every((g) => g <= 5),
        `grid ${d.workgroups} should fit the limit`,
      );
      if (!fellBack) assert.ok(d.workgroups[2] > 1, `grid ${d.workgroups} should be folded`);
      const got = await take(
        await ops.conv2d(
          upload(small, x, xShape),
          upload(small, w, wShape),
          upload(small, b, [16]),
          { padding: 'same' },
          { variant },
        ),
      );
      assertClose(got, ref.y, 2e-5, `folded grid, ${variant.kind ?? 'register'}`, 'normalized');
    }
  } finally {
    small.dispose();
  }
});

test.run();
