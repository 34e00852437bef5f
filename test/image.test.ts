// Image decoding and resizing against Pillow's own outputs (what Keras's load_img uses).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { centerCrop, decodeImage, imageToArray, resizeAndCenterCrop, resizeImage } from '../src/io/image.js';
import { parseNpy } from '../src/io/npy.js';
import { fixtureBytes } from './fixtures.js';

const test = suite('images');
const dir = 'test/fixtures/pillow';

const pillow = async (f: string) => parseNpy(await fixtureBytes(`${dir}/${f}`), f);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const [w, h] of [
  [16, 20],
  [60, 50],
  [8, 8],
]) {
  test(`nearest resize to ${w}×${h} is Pillow's exactly`, async () => {
    const src = await decodeImage(`${dir}/src_37x29.png`);
    const ours = imageToArray(resizeImage(src, w, h, 'nearest'));
    const ref = await pillow(`nearest_${w}x${h}.npy`);
    assert.equal(ref.shape, [h, w, 3]);
    assert.is(maxDiff(ours, ref.data), 0);
  });
  test(`bilinear resize to ${w}×${h} is Pillow's within 1 level`, async () => {
    const src = await decodeImage(`${dir}/src_37x29.png`);
    // Pillow accumulates in fixed point; rounding may differ by one 8-bit level.
    assert.ok(
      maxDiff(imageToArray(resizeImage(src, w, h, 'bilinear')), (await pillow(`bilinear_${w}x${h}.npy`)).data) <= 1,
    );
  });
}

test("grayscale is Pillow's convert('L') exactly", async () => {
  const src = await decodeImage(`${dir}/src_37x29.png`);
  assert.is(maxDiff(imageToArray(src, 1), (await pillow('gray.npy')).data), 0);
});

test('center crop takes the middle; resize-and-crop keeps the aspect ratio', async () => {
  const src = await decodeImage(`${dir}/src_37x29.png`);
  const crop = centerCrop(src, 5, 3);
  const x0 = 16,
    y0 = 13;
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 5; x++) {
      assert.equal(
        Array.from(crop.data.subarray((y * 5 + x) * 4, (y * 5 + x) * 4 + 4)),
        Array.from(src.data.subarray(((y0 + y) * 37 + x0 + x) * 4, ((y0 + y) * 37 + x0 + x) * 4 + 4)),
      );
    }
  const sq = resizeAndCenterCrop(src, 20);
  assert.is(sq.width, 20);
  assert.is(sq.height, 20);
});

test('JPEG and PNG decode to RGBA with their sizes', async () => {
  const dog = await decodeImage('assets/images/dog.jpg');
  assert.equal([dog.width, dog.height, dog.data.length], [768, 576, 768 * 576 * 4]);
  const digit = await decodeImage('test/fixtures/keras/moonflower_8.png'); // a 2-bit palette PNG
  assert.equal([digit.width, digit.height], [28, 28]);
});

test.run();
