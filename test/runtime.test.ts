import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ops from '../src/eager.js';
import { BufferPool } from '../src/gpu/buffer-pool.js';
import { UsageError } from '../src/errors.js';
import { GpuError, TensorTooLargeError } from '../src/gpu/errors.js';
import { packParams, paramLayout } from '../src/gpu/params.js';
import { KERNELS, type KernelName } from '../src/gpu/shaders.js';
import { shaderKeyString, specialize } from '../src/gpu/specialize.js';
import { unrollLoops } from '../src/gpu/unroll.js';
import type { DeviceCaps, TileVariant } from '../src/gpu/dispatch.js';
import { lowerConv2d, type Conv2dAttrs } from '../src/ops/conv2d.js';
import { Tensor } from '../src/tensor.js';
import { randomArray, rejects, take, upload, withGpu } from './harness.js';

/** The dispatches a direct (non-Winograd) conv lowers to. */
const convDispatches = (x: number[], w: number[], attrs: Conv2dAttrs, caps: DeviceCaps, variant?: TileVariant) =>
  lowerConv2d(
    { kernelShape: w as [number, number, number, number], attrs },
    { caps, inputs: [x], winograd: false, variant },
  ).dispatches;

const test = suite('runtime');
const gpu = withGpu(test);

test('specialize rewrites @spec lines in place and keeps line numbers', () => {
  const src = specialize({ kernel: 'conv2d', spec: { TM: 2, TN: 8 } });
  const original = KERNELS.conv2d.split('\n');
  const lines = src.code.split('\n');
  const at = original.findIndex((l) => l.startsWith('const TM'));
  if (lines[at] !== 'const TM: u32 = 2u; // @spec') throw new Error(`line ${at + 1}: ${lines[at]}`);
  if (!lines[original.findIndex((l) => l.startsWith('const TN'))].includes('8u')) throw new Error('TN not rewritten');
  // The activation library is appended after the kernel, and its lines map back to its own file.
  const libLine = original.length + 1;
  const where = src.locate(libLine);
  if (where.file !== 'shaders/common/activation.wgsl' || where.line !== 1)
    throw new Error(`locate → ${JSON.stringify(where)}`);
  if (src.locate(10).file !== 'shaders/conv2d.wgsl' || src.locate(10).line !== 10)
    throw new Error('kernel lines moved');
});

test('specialize rejects unknown constants and bad values', async () => {
  await rejects(
    () => specialize({ kernel: 'gemm', spec: { TILE: 4 } }),
    /shaders\/gemm\.wgsl: unknown spec constant\(s\) TILE/,
  );
  await rejects(() => specialize({ kernel: 'gemm', spec: { TM: -1 } }), /spec TM: -1 is not a valid u32/);
  await rejects(() => specialize({ kernel: 'gemm', spec: { TM: 1.5 } }), /not a valid u32/);
});

test('specialize writes out @unroll loops with literal indices and keeps later lines in place', () => {
  const original = KERNELS['gemm-vec4'].split('\n');
  const lines = specialize({ kernel: 'gemm-vec4', spec: { TM: 3, TN: 2 } }, { unroll: true }).code.split('\n');
  const kernelLines = lines.slice(0, original.length);
  if (kernelLines.some((l) => /for \(var [ij] /.test(l))) throw new Error('a tile loop was left as a loop');
  const code = kernelLines.join('\n');
  for (const use of ['row[2u] = a0 + min(m0 + 2u', 'col[1u] = min(q0 + 1u * WG_X', 'acc[2u * TN + 1u]']) {
    if (!code.includes(use)) throw new Error(`missing ${use}`);
  }
  if (code.includes('row[3u]') || code.includes('col[2u]')) throw new Error('more copies than the bound');
  const at = original.findIndex((l) => l.includes('let ldq'));
  if (lines[at] !== original[at]) throw new Error(`line ${at + 1} moved: ${lines[at]}`);
});

test('@unroll rejects bodies that break and bounds it cannot resolve, naming the file and line', async () => {
  const loop = (bound: string, body: string) =>
    `const TM: u32 = 2u;\nfn f() {\n  for (var i = 0u; i < ${bound}; i++) { // @unroll\n    ${body}\n  }\n}`;
  await rejects(() => unrollLoops(loop('TM', 'if (i > 0u) { break; }'), 'k.wgsl'), /k\.wgsl:3: .*may not break/);
  await rejects(() => unrollLoops(loop('NOPE', 'x[i] = 0.0;'), 'k.wgsl'), /k\.wgsl:3: .*bound 'NOPE'/);
  await rejects(() => unrollLoops(loop('p.n', 'x[i] = 0.0;'), 'k.wgsl'), /k\.wgsl:3: @unroll marks no/);
  const products = unrollLoops(loop('TM * 3u', 'x[i] = 0.0;'), 'k.wgsl');
  if (!products.includes('x[5u] = 0.0;') || products.includes('x[6u]')) throw new Error(products);
  if (products.split('\n').length !== 6) throw new Error('line count changed');
});

test('cache keys do not depend on spec key order', () => {
  const a = shaderKeyString({ kernel: 'gemm', spec: { TM: 4, TN: 2 } });
  const b = shaderKeyString({ kernel: 'gemm', spec: { TN: 2, TM: 4 } });
  if (a !== b) throw new Error(`${a} != ${b}`);
});

test('Params layout is read from each kernel source; packing checks names, types and ranges', async () => {
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    if (!paramLayout(name).length) throw new Error(`${name}: empty Params`);
  }
  const fields = paramLayout('gemm')
    .map((f) => `${f.name}:${f.type}`)
    .join(' ');
  if (
    fields !== 'm:u32 k:u32 nb:u32 n_offset:u32 ldc:u32 act:u32 act_a:f32 act_b:f32 batch_a:u32 batch_b:u32 batch_c:u32'
  )
    throw new Error(fields);
  const buf = new DataView(
    packParams('gemm', {
      m: 3,
      k: 4,
      nb: 5,
      n_offset: 6,
      ldc: 7,
      act: 1,
      act_a: 0.5,
      act_b: 6,
      batch_a: 8,
      batch_b: 9,
      batch_c: 10,
    }),
  );
  if (
    buf.getUint32(4, true) !== 4 ||
    buf.getFloat32(24, true) !== 0.5 ||
    buf.getUint32(40, true) !== 10 ||
    buf.byteLength !== 48
  )
    throw new Error('packing layout');
  await rejects(() => packParams('gemm', { m: 3 }), /Params\.k not given/);
  await rejects(() => packParams('softmax', { rows: 1, cols: 2, extra: 1 }), /unknown Params field\(s\) extra/);
  await rejects(() => packParams('softmax', { rows: -1, cols: 2 }), /out of u32 range/);
});

test('a WGSL compile error names the shader file and line', async () => {
  const ctx = await gpu();
  // A zero workgroup size is invalid; the error must point into shaders/gemm.wgsl.
  await rejects(
    ctx.pipelines.compile({ kernel: 'gemm', spec: { WG_X: 0 } }),
    /shaders\/gemm\.wgsl:\d+:\d+: .*workgroup_size/s,
    GpuError,
  );
});

test('pipelines are cached by exactly what was compiled, and compiled once', async () => {
  const ctx = await gpu();
  const calls = convDispatches([1, 8, 8, 4], [3, 3, 4, 8], { padding: 'same' }, ctx.caps);
  await ctx.compile(calls);
  const before = ctx.pipelines.size;
  await Promise.all([ctx.compile(calls), ctx.compile(calls)]);
  // Same tile config, other shapes.
  await ctx.compile(convDispatches([2, 17, 5, 4], [3, 3, 4, 8], { padding: 'valid' }, ctx.caps));
  if (ctx.pipelines.size !== before) throw new Error(`cache grew from ${before} to ${ctx.pipelines.size}`);
  await ctx.compile(
    convDispatches([1, 8, 8, 4], [3, 3, 4, 8], { padding: 'same' }, ctx.caps, { tm: 2, tn: 4, wgX: 8, wgY: 8 }),
  );
  if (ctx.pipelines.size !== before + 1) throw new Error('a new variant should compile a new pipeline');
});

test('buffer pool reuses a released buffer only after a submit', async () => {
  const ctx = await gpu();
  const pool = new BufferPool(
    (size, usage) => ctx.device.createBuffer({ size, usage }),
    (b) => b.destroy(),
  );
  const usage = 0x80 | 0x8;
  const a = pool.acquire(1000, usage);
  pool.release(a);
  const b = pool.acquire(1000, usage);
  if (a === b) throw new Error('reused before submit');
  pool.submitted();
  const c = pool.acquire(900, usage); // same 1 KiB bucket
  if (c !== a) throw new Error('not reused after submit');
  if (BufferPool.bucketBytes(1000) !== 1024 || BufferPool.bucketBytes(1) !== 256) throw new Error('buckets');
  pool.destroy();
});

test('timestamp queries give per-kernel times when the adapter has them', async () => {
  const ctx = await gpu();
  if (!ctx.hasTimestamps) {
    console.log(`  (adapter ${ctx.description} has no timestamp-query; skipped)`);
    return;
  }
  let timings: { kernel: string; ms: number }[] = [];
  const x = upload(ctx, randomArray(1 * 16 * 16 * 8, 1), [1, 16, 16, 8]);
  await take(
    await ops.conv2d(
      x,
      upload(ctx, randomArray(3 * 3 * 8 * 8, 2), [3, 3, 8, 8]),
      null,
      { padding: 'same' },
      { onTiming: (t) => (timings = t) },
    ),
  );
  if (
    timings.length !== 1 ||
    !timings[0].kernel.startsWith('conv2d') ||
    !(timings[0].ms >= 0 && timings[0].ms < 10_000)
  ) {
    throw new Error(`timings ${JSON.stringify(timings)}`);
  }
});

test('validation errors surface as GpuError exceptions', async () => {
  const ctx = await gpu();
  // A buffer without STORAGE usage bound as storage is a validation error, not console noise.
  const bad = ctx.device.createBuffer({ size: 64, usage: 0x8 });
  const x = new Tensor(ctx, bad, [16], 'own');
  await rejects(ops.activation(x, { kind: 'relu' }), /validation/i, GpuError);
  x.dispose();
  // The context stays usable afterwards.
  const ok = await take(await ops.activation(upload(ctx, [-1, 2], [2]), { kind: 'relu' }));
  if (ok[0] !== 0 || ok[1] !== 2) throw new Error('context unusable after a validation error');
});

test('a tensor too large for the device is refused with the sizes', async () => {
  const ctx = await gpu();
  await rejects(
    () => Tensor.empty(ctx, [1, 65536, 65536, 4]),
    /exceeds the device's maxBufferSize/,
    TensorTooLargeError,
  );
  // Larger than one binding but not a splittable weight: the op names the binding.
  const small = await (await import('../src/gpu/context.js')).GpuContext.create({
    capsOverride: { maxStorageBindingBytes: 1024 },
  });
  try {
    const t = upload(small, new Float32Array(512), [512]);
    await rejects(
      ops.activation(t, { kind: 'relu' }),
      /input 0 \(binding 0 of activation-vec4\) is 2048 bytes, over the device's maxStorageBufferBindingSize of 1024/,
      TensorTooLargeError,
    );
  } finally {
    small.dispose();
  }
});

test('eager calls name a wrong argument; a bias may be an array', async () => {
  const ctx = await gpu();
  const x = upload(ctx, randomArray(1 * 4 * 4 * 2, 3), [1, 4, 4, 2]);
  const w = upload(ctx, randomArray(3 * 3 * 2 * 3, 4), [3, 3, 2, 3]);
  const bias = [0.5, -1, 2];
  // A Float32Array (or list) bias is uploaded for the call and gives the same answer as a Tensor bias.
  const viaTensor = await take(await ops.conv2d(x, w, upload(ctx, bias, [3]), { padding: 'same' }));
  assert.equal(await take(await ops.conv2d(x, w, Float32Array.from(bias), { padding: 'same' })), viaTensor);
  assert.equal(await take(await ops.conv2d(x, w, bias, { padding: 'same' })), viaTensor);
  await rejects(ops.conv2d(x, w, [1, 2], { padding: 'same' }), /conv2d: bias has 2 values, expected 3/, UsageError);
  await rejects(
    ops.conv2d(x, randomArray(54, 1) as never, null, {}),
    /conv2d: kernel must be a Tensor, got Float32Array/,
    UsageError,
  );
  await rejects(
    ops.conv2d(x, upload(ctx, randomArray(6, 1), [2, 3]), null, {}),
    /conv2d: kernel must be HWIO \(4 axes\), got \[2, 3\]/,
    UsageError,
  );
  await rejects(
    ops.activation([1, 2] as never, { kind: 'relu' }),
    /activation: x must be a Tensor, got Array/,
    UsageError,
  );
  await rejects(ops.add(x, undefined as never), /add: b must be a Tensor, got undefined/, UsageError);
  const gone = upload(ctx, [1, 2], [2]);
  gone.dispose();
  await rejects(ops.softmax(gone), /softmax: x was disposed/, UsageError);
  const other = await (await import('../src/gpu/context.js')).GpuContext.create();
  try {
    await rejects(
      ops.add(x, upload(other, randomArray(32, 5), [1, 4, 4, 2])),
      /add: b is on another GpuContext than a/,
      UsageError,
    );
  } finally {
    other.dispose();
  }
});

test('use after dispose is an error, not a crash', async () => {
  const { GpuContext } = await import('../src/gpu/context.js');
  const c = await GpuContext.create();
  c.dispose();
  await rejects(() => c.checkHealthy(), /used after dispose/, GpuError);
});

test.run();
