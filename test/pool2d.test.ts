import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import { darknetPoolAxis } from '../src/io/darknet/sections.js';
import type { Pool2dAttrs, Pool2dAttrs as Attrs } from '../src/ops/pool2d.js';
import { assertClose, prod, randomArray, take, upload, withGpu } from './harness.js';
import { refGlobalPool, refPool2d, type RefPoolPadding } from './reference.js';

const test = suite('pool2d');
const gpu = withGpu(test);

async function check(
  name: string,
  xShape: number[],
  kind: 'max' | 'avg',
  size: [number, number],
  strides: [number, number],
  padding: RefPoolPadding,
  seed: number,
  expectShape?: number[],
) {
  const ctx = await gpu();
  const x = randomArray(prod(xShape), seed);
  const ref = refPool2d(x, xShape, kind, size, strides, padding);
  const attrs: Pool2dAttrs = {
    kind,
    size,
    strides,
    padding: padding === 'darknet' ? darknetPads(xShape, size, strides) : padding,
  };
  const y = await ops.pool2d(upload(ctx, x, xShape), attrs);
  if (y.shape.join() !== ref.shape.join()) throw new Error(`${name}: shape [${y.shape}] != reference [${ref.shape}]`);
  if (expectShape && y.shape.join() !== expectShape.join())
    throw new Error(`${name}: shape [${y.shape}], expected [${expectShape}]`);
  // Max pooling selects an input value: exact. Average divides a short sum: within a few ulps.
  assertClose(await take(y), ref.y, kind === 'max' ? 0 : 1e-6, name);
}

/** The pads the Darknet loader gives a [maxpool] with its default padding (size - 1), as the kernel takes them. */
function darknetPads(xShape: number[], size: [number, number], strides: [number, number]): Attrs['padding'] {
  const y = darknetPoolAxis(xShape[1], size[0], strides[0], size[0] - 1),
    x = darknetPoolAxis(xShape[2], size[1], strides[1], size[1] - 1);
  return [y.before, y.after, x.before, x.after];
}

test('Darknet maxpool size 2 stride 1 keeps 13×13, padding bottom/right', async () => {
  await check('darknet 2/1', [1, 13, 13, 5], 'max', [2, 2], [1, 1], 'darknet', 1, [1, 13, 13, 5]);
  // …and equals Keras MaxPooling2D(2, strides=1, padding='same').
  await check('keras same 2/1', [1, 13, 13, 5], 'max', [2, 2], [1, 1], 'same', 1, [1, 13, 13, 5]);
});
test('Darknet maxpool size 2 stride 2 halves an even size', () =>
  check('darknet 2/2', [1, 26, 26, 3], 'max', [2, 2], [2, 2], 'darknet', 2, [1, 13, 13, 3]));
test('Darknet SPP maxpools 5 and 9 stride 1 keep the size', async () => {
  await check('spp 5', [1, 10, 10, 4], 'max', [5, 5], [1, 1], 'darknet', 3, [1, 10, 10, 4]);
  await check('spp 9', [1, 10, 10, 4], 'max', [9, 9], [1, 1], 'darknet', 4, [1, 10, 10, 4]);
});
test("Keras 'same' average pooling excludes the padding", () =>
  check('avg same', [1, 5, 5, 2], 'avg', [3, 3], [2, 2], 'same', 5, [1, 3, 3, 2]));

let n = 0;
for (const kind of ['max', 'avg'] as const)
  for (let k = 1; k <= 4; k++)
    for (let s = 1; s <= 3; s++)
      for (const padding of ['valid', 'same', 'explicit', 'darknet'] as const) {
        if (padding === 'darknet' && kind === 'avg') continue;
        const i = n++;
        const shape = [i % 3 === 0 ? 3 : 1, k + 2 + (i % 5), k + 1 + (i % 4), [1, 3, 17, 64][i % 4]];
        const pads: RefPoolPadding =
          padding === 'explicit' ? [i % 2, (i + 1) % 2, (i + 1) % 2, Math.min(k - 1, 1)] : padding;
        test(`sweep ${kind} k${k} s${s} ${padding} [${shape}]`, () =>
          check(`${kind} k${k} s${s} ${padding}`, shape, kind, [k, k], [s, s], pads, 300 + i));
      }

for (const kind of ['max', 'avg'] as const)
  for (const shape of [
    [1, 7, 7, 512],
    [3, 5, 3, 17],
    [1, 1, 1, 3],
    [2, 56, 56, 4],
  ]) {
    test(`global ${kind} [${shape}]`, async () => {
      const ctx = await gpu();
      const x = randomArray(prod(shape), shape[3]);
      const got = await take(await ops.globalPool(upload(ctx, x, shape), kind));
      assertClose(got, refGlobalPool(x, shape, kind), kind === 'max' ? 0 : 1e-6, `global ${kind}`);
    });
  }

test.run();
