// Keras YOLOs exported keras-yolo3's way (Detector.fromKeras, `detect --model`): its letterbox bit for bit
// against Pillow; with its defaults, the detections are keras-yolo3's decoding of the same heads (yolo_head,
// yolo_correct_boxes, yolo_eval's per-class NMS), reimplemented here in float64; and run the Darknet way with
// the cfg's masks, a Keras conversion of Yolo-Fastest gives the Darknet loader's detections on the six images.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage } from '../src/io/image.js';
import { parseNpy } from '../src/io/npy.js';
import { resizeBicubic } from '../src/io/pillow-resize.js';
import { darknetLines } from '../src/models/yolo/darknet-print.js';
import { Detector } from '../src/models/yolo/detector.js';
import { kerasLetterbox, kerasYolo3Lines, kerasYolo3Order } from '../src/models/yolo/keras-yolo3.js';
import { writeKerasYolo3 } from './keras-yolo3-convert.js';
import { assertClose, withGpu } from './harness.js';

const test = suite('keras-yolo3 models');
const gpu = withGpu(test);
const K = 'test/fixtures/keras-zoo/yolo';
const PIL = 'test/fixtures/darknet-zoo/keras-yolo3';
const IMAGES = ['dog', 'person', 'horses', 'eagle', 'giraffe', 'kite'];
const dir = mkdtempSync(join(tmpdir(), 'keras-yolo3-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)), p);

test("letterbox_image and Image.BICUBIC are Pillow's, bit for bit", async () => {
  const lb = kerasLetterbox(await decodeImage(`${PIL}/dog.pillow.png`), 320, 320);
  assert.equal(
    Array.from(lb),
    Array.from(npy(`${K}/dog_kerasyolo3_letterbox.npy`).data),
    "dog at 320: keras-yolo3's own input",
  );
  for (const [src, out] of [
    ['dog.pillow', 'dog.pillow-bicubic-413x97'],
    ['random-37x23', 'random-37x23-bicubic-100x61'],
    ['random-100x61', 'random-100x61-bicubic-37x23'],
  ]) {
    const want = await decodeImage(`${PIL}/${out}.png`);
    const got = resizeBicubic(await decodeImage(`${PIL}/${src}.png`), want.width, want.height);
    assert.equal(Array.from(got.data), Array.from(want.data), `${src} → ${want.width}×${want.height}`);
  }
});

interface RefBox {
  cls: number;
  score: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** keras-yolo3's yolo_eval in float64, written from yolo3/model.py. */
function referenceEval(
  outs: Float32Array[],
  shapes: number[][],
  anchors: number[][],
  masks: number[][],
  classes: number,
  [imH, imW]: number[],
  score = 0.3,
  iouThresh = 0.45,
  maxBoxes = 20,
): RefBox[] {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const inputShape = [shapes[0][1] * 32, shapes[0][2] * 32];
  const ratio = Math.min(inputShape[0] / imH, inputShape[1] / imW);
  const half = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v)); // tf.round
  const newShape = [half(imH * ratio), half(imW * ratio)];
  const boxes: { b: number[]; s: number[] }[] = [];
  outs.forEach((f, l) => {
    const [, gh, gw] = shapes[l];
    const na = masks[l].length,
      per = classes + 5;
    for (let y = 0; y < gh; y++)
      for (let x = 0; x < gw; x++)
        for (let a = 0; a < na; a++) {
          const v = (e: number) => f[((y * gw + x) * na + a) * per + e];
          const [aw, ah] = anchors[masks[l][a]];
          let yx = [(sig(v(1)) + y) / gh, (sig(v(0)) + x) / gw];
          let hw = [(Math.exp(v(3)) * ah) / inputShape[0], (Math.exp(v(2)) * aw) / inputShape[1]];
          const offset = [0, 1].map((k) => (inputShape[k] - newShape[k]) / 2 / inputShape[k]);
          const scale = [0, 1].map((k) => inputShape[k] / newShape[k]);
          yx = yx.map((c, k) => (c - offset[k]) * scale[k]);
          hw = hw.map((c, k) => c * scale[k]);
          const b = [
            (yx[0] - hw[0] / 2) * imH,
            (yx[1] - hw[1] / 2) * imW,
            (yx[0] + hw[0] / 2) * imH,
            (yx[1] + hw[1] / 2) * imW,
          ];
          boxes.push({ b, s: Array.from({ length: classes }, (_, c) => sig(v(4)) * sig(v(5 + c))) });
        }
  });
  const iou = (p: number[], q: number[]) => {
    const ap = (p[2] - p[0]) * (p[3] - p[1]),
      aq = (q[2] - q[0]) * (q[3] - q[1]);
    if (ap <= 0 || aq <= 0) return 0;
    const inter =
      Math.max(Math.min(p[2], q[2]) - Math.max(p[0], q[0]), 0) *
      Math.max(Math.min(p[3], q[3]) - Math.max(p[1], q[1]), 0);
    return inter / (ap + aq - inter);
  };
  const out: RefBox[] = [];
  for (let c = 0; c < classes; c++) {
    const cands = boxes.filter((b) => b.s[c] >= score).sort((p, q) => q.s[c] - p.s[c]);
    const kept: typeof boxes = [];
    for (const cand of cands)
      if (kept.length < maxBoxes && kept.every((k) => iou(k.b, cand.b) <= iouThresh)) kept.push(cand);
    out.push(...kept.map((k) => ({ cls: c, score: k.s[c], top: k.b[0], left: k.b[1], bottom: k.b[2], right: k.b[3] })));
  }
  return out;
}

test("with keras-yolo3's defaults, detections are its decoding of the same heads (float64 reference)", async () => {
  const anchors = readFileSync(`${K}/yolo_anchors.txt`, 'utf8').split(',').map(Number);
  const pairs = Array.from({ length: anchors.length / 2 }, (_, k) => [anchors[2 * k], anchors[2 * k + 1]]);
  const names = readFileSync(`${K}/coco_classes.txt`, 'utf8').trim().split('\n');
  const det = await Detector.fromKeras({
    ctx: await gpu(),
    model: `${K}/yolo-fastest-1.1.h5`,
    anchors: `${K}/yolo_anchors.txt`,
    classes: `${K}/coco_classes.txt`,
    inputSize: [320, 320],
  });
  try {
    // Its own input: the heads are Keras's (up to float32 summation order).
    const f = await det.forward(Float32Array.from(npy(`${K}/dog_kerasyolo3_letterbox.npy`).data));
    f.outputs.forEach((o, i) =>
      assertClose(o, npy(`${K}/heads_kerasyolo3_letterbox.${i}.npy`).data, 1e-5, `head ${i}`, 'normalized'),
    );
    let total = 0;
    for (const image of IMAGES) {
      const img = await decodeImage(`assets/images/${image}.jpg`);
      const r = await det.detect(img);
      const heads = await det.forward(det.prepare(img));
      const ref = referenceEval(
        heads.outputs,
        heads.shapes,
        pairs,
        [
          [3, 4, 5],
          [1, 2, 3],
        ],
        80,
        [img.height, img.width],
      ).reverse();
      const got = kerasYolo3Order(r.detections);
      assert.is(got.length, ref.length, `${image}: ${got.length} boxes, keras-yolo3 ${ref.length}`);
      got.forEach((d, i) => {
        const e = ref[i];
        assert.ok(
          d.classIndex === e.cls && Math.abs(d.score - e.score) < 1e-5,
          `${image} #${i}: ${d.className} ${d.score} vs ${names[e.cls]} ${e.score}`,
        );
        const floor = (v: number) => Math.floor(v + 0.5);
        const want = [
          Math.max(0, floor(e.left)),
          Math.max(0, floor(e.top)),
          Math.min(img.width, floor(e.right)),
          Math.min(img.height, floor(e.bottom)),
        ];
        const box = [d.box.x1, d.box.y1, d.box.x2, d.box.y2];
        assert.ok(
          box.every((v, k) => Math.abs(v - want[k]) <= 1),
          `${image} ${d.className}: box ${box} vs ${want}`,
        );
      });
      total += got.length;
    }
    assert.ok(total >= 20, `${total} detections on the six images`);
    console.log(`  keras-yolo3 defaults: ${total} detections on the six images, each the float64 reference's`);
  } finally {
    det.dispose();
  }
});

test("a Keras conversion (AlexeyAB's epsilon, Darknet way, cfg's masks) detects as the Darknet loader", async () => {
  const cfg = readFileSync('assets/darknet/yolo-fastest-1.1.cfg', 'utf8');
  const h5 = join(dir, 'yolo-fastest-eps1e-5.h5');
  await writeKerasYolo3(h5, cfg, new Uint8Array(readFileSync('assets/darknet/yolo-fastest-1.1.weights')), 1e-5);
  const ctx = await gpu();
  const keras = await Detector.fromKeras({
    ctx,
    model: h5,
    anchors: `${K}/yolo_anchors.txt`,
    classes: `${K}/coco_classes.txt`,
    inputSize: [320, 320],
    preprocess: 'darknet',
    masks: [
      [3, 4, 5],
      [0, 1, 2],
    ],
    nms: { kind: 'greedynms', beta: 0.6 },
  });
  const darknet = await Detector.load({ ctx });
  try {
    for (const image of IMAGES) {
      const [k, d] = [
        await keras.detect(`assets/images/${image}.jpg`),
        await darknet.detect(`assets/images/${image}.jpg`),
      ];
      assert.equal(darknetLines(k.detections), darknetLines(d.detections), image);
      assert.equal(
        k.detections.map((x) => x.darknetBox),
        d.detections.map((x) => x.darknetBox),
        `${image} boxes`,
      );
    }
  } finally {
    keras.dispose();
    darknet.dispose();
  }
});

test("detect --model prints keras-yolo3's lines; --preprocess darknet prints Darknet's", async () => {
  const args = [
    '--model',
    `${K}/yolo-fastest-1.1.h5`,
    '--anchors',
    `${K}/yolo_anchors.txt`,
    '--classes',
    `${K}/coco_classes.txt`,
    '--size',
    '320',
  ];
  const cli = (extra: string[]) =>
    spawnSync(
      process.execPath,
      ['dist/cli.js', 'detect', ...args, ...extra, 'assets/images/dog.jpg', '--out', join(dir, 'k.jpg')],
      { encoding: 'utf8' },
    );
  const det = await Detector.fromKeras({
    ctx: await gpu(),
    model: args[1],
    anchors: args[3],
    classes: args[5],
    inputSize: [320, 320],
  });
  try {
    const r = cli([]);
    assert.is(r.status, 0, r.stderr);
    const lines = kerasYolo3Lines((await det.detect('assets/images/dog.jpg')).detections);
    assert.equal(r.stdout.split('\n').slice(1, 1 + lines.length), lines);
    assert.match(lines[0], /^Found \d+ boxes for img$/);
  } finally {
    det.dispose();
  }
  const d = cli(['--preprocess', 'darknet', '--masks', '3,4,5/0,1,2']);
  assert.is(d.status, 0, d.stderr);
  assert.match(d.stdout, /^Found \d+ boxes for dog\.jpg\ndog: \d+%/m);
  const bad = cli(['--masks', '3,4,5/0,x']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--masks/);
});

test.run();
