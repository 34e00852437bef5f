import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import { assertClose, prod, randomArray, take, upload, withGpu } from './harness.js';
import { refConcat, refPad, refTranspose, refUpsample } from './reference.js';

const test = suite('layout');
const gpu = withGpu(test);

test('concat along channels (Darknet route), three inputs, batch 3', async () => {
  const ctx = await gpu();
  const shapes = [
    [3, 4, 5, 1],
    [3, 4, 5, 17],
    [3, 4, 5, 64],
  ];
  const parts = shapes.map((s, i) => ({ x: randomArray(prod(s), i), shape: s }));
  const y = await ops.concat(
    parts.map((p) => upload(ctx, p.x, p.shape)),
    -1,
  );
  if (y.shape.join() !== '3,4,5,82') throw new Error(`shape ${y.shape}`);
  assertClose(await take(y), refConcat(parts, -1), 0, 'concat');
});

test('concat by quads and by values in one call (channels 4, 8, 3, 1 → 16; DenseNet-style 24 + 32)', async () => {
  const ctx = await gpu();
  for (const channels of [
    [4, 8, 3, 1],
    [24, 32],
  ]) {
    const parts = channels.map((c, i) => ({ x: randomArray(2 * 3 * 5 * c, 20 + i), shape: [2, 3, 5, c] }));
    let kernels: string[] = [];
    const y = await ops.concat(
      parts.map((p) => upload(ctx, p.x, p.shape)),
      -1,
      { onKernels: (k) => (kernels = k) },
    );
    assertClose(await take(y), refConcat(parts, -1), 0, `concat ${channels}`);
    const expected = channels.length === 4 ? 'concat-vec4,concat-vec4,concat,concat' : 'concat-vec4,concat-vec4';
    if (kernels.join() !== expected) throw new Error(`kernels ${kernels} (expected ${expected})`);
  }
});

for (const axis of [0, 1, 2, -2]) {
  test(`concat along axis ${axis}`, async () => {
    const ctx = await gpu();
    const shapes = [
      [2, 3, 4],
      [2, 3, 4],
    ].map((s) => {
      const t = [...s];
      t[axis < 0 ? 3 + axis : axis] += 1;
      return t;
    });
    shapes[1][axis < 0 ? 3 + axis : axis] += 2;
    const parts = shapes.map((s, i) => ({ x: randomArray(prod(s), 10 + i), shape: s }));
    assertClose(
      await take(
        await ops.concat(
          parts.map((p) => upload(ctx, p.x, p.shape)),
          axis,
        ),
      ),
      refConcat(parts, axis),
      0,
      'concat',
    );
  });
}

for (const [shape, axis, begin, size] of [
  [[2, 5, 4, 6], -1, 3, 3],
  [[1, 3, 3, 8], 3, 0, 4],
  [[2, 5, 4, 6], 1, 1, 2],
  [[2, 3, 3, 16], -1, 8, 8], // route groups=2 group_id=1, by quads (slice-vec4)
] as [number[], number, number, number][]) {
  test(`slice [${shape}] axis ${axis} [${begin}, ${begin + size})`, async () => {
    const ctx = await gpu();
    const x = randomArray(prod(shape), 7);
    const ax = axis < 0 ? shape.length + axis : axis;
    const inner = prod(shape.slice(ax + 1)),
      outer = prod(shape.slice(0, ax));
    const expected: number[] = [];
    for (let o = 0; o < outer; o++)
      for (let a = begin; a < begin + size; a++)
        for (let i = 0; i < inner; i++) expected.push(x[(o * shape[ax] + a) * inner + i]);
    let kernels: string[] = [];
    const y = await ops.slice(upload(ctx, x, shape), axis, begin, size, { onKernels: (k) => (kernels = k) });
    assertClose(await take(y), expected, 0, 'slice');
    const byQuads = (shape[ax] * inner) % 4 === 0 && (size * inner) % 4 === 0 && (begin * inner) % 4 === 0;
    if (kernels.join() !== (byQuads ? 'slice-vec4' : 'slice')) throw new Error(`kernels ${kernels}`);
  });
}

test('concat rejects mismatched shapes with the input index', async () => {
  const ctx = await gpu();
  try {
    await ops.concat(
      [upload(ctx, new Float32Array(2 * 3 * 4), [1, 2, 3, 4]), upload(ctx, new Float32Array(3 * 3 * 4), [1, 3, 3, 4])],
      -1,
    );
  } catch (e) {
    if (/input 1 has shape \[1, 3, 3, 4\]/.test(String(e))) return;
    throw e;
  }
  throw new Error('no error');
});

for (const [shape, f] of [
  [
    [1, 3, 3, 3],
    [2, 2],
  ],
  [
    [3, 4, 2, 2],
    [3, 2],
  ],
  [
    [1, 13, 13, 17],
    [2, 2],
  ],
  [
    [2, 1, 3, 2],
    [1, 3],
  ],
] as [number[], [number, number]][]) {
  test(`upsample ${f.join('×')} [${shape}]`, async () => {
    const ctx = await gpu();
    const x = randomArray(prod(shape), 20);
    assertClose(
      await take(await ops.upsample(upload(ctx, x, shape), f)),
      refUpsample(x, shape, f[0], f[1]),
      0,
      'upsample',
    );
  });
}

for (const [shape, pads] of [
  [
    [1, 3, 5, 2],
    [1, 1, 1, 1],
  ],
  [
    [3, 2, 6, 4],
    [3, 3, 2, 2],
  ],
  [
    [1, 2, 6, 17],
    [1, 2, 3, 4],
  ],
  [
    [1, 4, 4, 1],
    [0, 1, 0, 1],
  ],
] as [number[], [number, number, number, number]][]) {
  test(`zero padding [${pads}] on [${shape}]`, async () => {
    const ctx = await gpu();
    const x = randomArray(prod(shape), 30);
    assertClose(await take(await ops.pad(upload(ctx, x, shape), pads)), refPad(x, shape, pads), 0, 'pad');
  });
}

test('NHWC → NCHW → NHWC round trip and each direction against the reference', async () => {
  const ctx = await gpu();
  const shape = [3, 5, 7, 17];
  const x = randomArray(prod(shape), 40);
  const nchw = await ops.transpose(upload(ctx, x, shape), [0, 3, 1, 2]);
  if (nchw.shape.join() !== '3,17,5,7') throw new Error(`shape ${nchw.shape}`);
  const back = await ops.transpose(nchw, [0, 2, 3, 1]);
  assertClose(await take(nchw), refTranspose(x, shape, [0, 3, 1, 2]), 0, 'to NCHW');
  assertClose(await take(back), x, 0, 'round trip');
});

test('transpose of rank 2 and 3', async () => {
  const ctx = await gpu();
  for (const [shape, perm] of [
    [
      [7, 9],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [2, 0, 1],
    ],
  ] as [number[], number[]][]) {
    const x = randomArray(prod(shape), 41);
    assertClose(
      await take(await ops.transpose(upload(ctx, x, shape), perm)),
      refTranspose(x, shape, perm),
      0,
      `perm ${perm}`,
    );
  }
});

test('flatten in Keras (channels-last) order and in NCHW order', async () => {
  const ctx = await gpu();
  const shape = [2, 3, 4, 5];
  const x = randomArray(prod(shape), 50);
  const xt = upload(ctx, x, shape);
  const keras = ops.flatten(xt);
  if (keras.shape.join() !== '2,60') throw new Error(`keras flatten shape ${keras.shape}`);
  assertClose(await keras.read(), x, 0, 'keras flatten');
  const nchw = await ops.flattenNchw(xt);
  if (nchw.shape.join() !== '2,60') throw new Error(`nchw flatten shape ${nchw.shape}`);
  assertClose(await take(nchw), refTranspose(x, shape, [0, 3, 1, 2]), 0, 'nchw flatten');
});

test.run();
