// The bundled Yolo-Fastest 1.1 (real Darknet weights) on dog.jpg reproduces real Darknet's printout
// (formats.md §2.9): the letterboxed input, both [yolo] heads, and the detections.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, type Detection } from '../src/models/yolo/detector.js';
import { letterbox } from '../src/models/yolo/letterbox.js';
import { activateHead } from '../src/models/yolo/yolo.js';
import { decodeImage } from '../src/io/image.js';
import { withGpu } from './harness.js';

const test = suite('yolo-fastest vs darknet');
const gpu = withGpu(test);
// dog.jpg decoded by stb_image (Darknet's decoder), stored losslessly: JPEG decoders differ slightly.
const STB_DOG = 'test/fixtures/darknet/dog.stb.png';

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

test('letterboxed input sums to 154103.876753 (1e-5 relative)', async () => {
  const lb = letterbox(await decodeImage(STB_DOG), 320, 320);
  const sum = lb.data.reduce((a, b) => a + b, 0);
  assert.ok(rel(sum, 154103.876753) < 1e-5, `sum ${sum}`);
  assert.equal([lb.newW, lb.newH], [320, 240]);
});

const DARKNET: { name: string; p: number; box: [number, number, number, number] }[] = [
  { name: 'dog', p: 0.60601, box: [114, 190, 406, 507] },
  { name: 'car', p: 0.542634, box: [468, 72, 655, 162] },
  { name: 'bicycle', p: 0.595474, box: [237, 184, 591, 437] },
];

function checkDetections(found: Detection[], label: string) {
  assert.is(found.length, 3, `${label}: ${found.map((d) => `${d.className} ${d.score}`).join(', ')}`);
  for (const want of DARKNET) {
    const d = found.find((f) => f.className === want.name);
    assert.ok(d, `${label}: no ${want.name}`);
    assert.ok(Math.abs(d!.score - want.p) < 0.01, `${label} ${want.name}: p ${d!.score} vs ${want.p}`);
    const got = [d!.box.x1, d!.box.y1, d!.box.x2, d!.box.y2];
    assert.ok(
      got.every((v, i) => Math.abs(v - want.box[i]) <= 2),
      `${label} ${want.name}: box ${got} vs ${want.box}`,
    );
  }
}

test('both yolo heads match Darknet (sums and maxima, 1e-3 relative); detections are dog, car, bicycle', async () => {
  const det = await Detector.load({ ctx: await gpu() });
  try {
    assert.equal([det.network.width, det.network.height], [320, 320]);
    const img = await decodeImage(STB_DOG);
    const { outputs, shapes } = await det.forward(det.prepare(img));
    assert.equal(shapes, [
      [1, 10, 10, 255],
      [1, 20, 20, 255],
    ]);
    const expected = [
      [480.995612, 0.987916],
      [2853.33157, 1.331119],
    ];
    det.network.heads.forEach((head, i) => {
      const act = activateHead(outputs[i], head);
      const sum = act.reduce((a, b) => a + b, 0);
      const max = act.reduce((a, b) => Math.max(a, b), -Infinity);
      assert.ok(rel(sum, expected[i][0]) < 1e-3, `head ${head.layer} sum ${sum} vs ${expected[i][0]}`);
      assert.ok(rel(max, expected[i][1]) < 1e-3, `head ${head.layer} max ${max} vs ${expected[i][1]}`);
    });
    assert.equal(
      det.network.heads.map((h) => h.layer),
      [121, 130],
    );
    checkDetections((await det.detect(img)).detections, 'stb-decoded dog');
    // From the JPEG itself, through our decoder (MozJPEG: within 3 levels of stb_image per pixel).
    checkDetections((await det.detect('assets/images/dog.jpg')).detections, 'dog.jpg');
  } finally {
    det.dispose();
  }
});

test.run();
