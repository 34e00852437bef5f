// Decoding rules of AlexeyAB's detector, on hand-made heads with values worked out here: [yolo] with
// new_coords and scale_x_y, [region] (softmax, anchors in grid cells, every box kept), letterbox correction,
// the NMS kinds (IoU, greedynms's DIoU with β 0.6, diounms with beta_nms), and printf's %.0f.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RegionHead, YoloHead } from '../src/io/darknet/network.js';
import { darknetOrder, darknetPercent, printfRound } from '../src/models/yolo/darknet-print.js';
import { boxDiou, boxIou, nms } from '../src/models/yolo/nms.js';
import { activateHead, decodeHead, toDetections, type Candidate } from '../src/models/yolo/yolo.js';

const test = suite('yolo decoding');
const near = (a: number, b: number, tol = 1e-6) => Math.abs(a - b) <= tol;
const logit = (p: number) => Math.log(p / (1 - p));
const DEFAULT_NMS = { kind: 'default', beta: 0.6 } as const;
const noLetterbox = { netW: 64, netH: 32, imageW: 64, imageH: 32, letterbox: false };

test('[yolo] new_coords: no logistic in the layer, x·s − (s−1)/2, w = t²·4·anchor / net width', () => {
  const head: YoloHead = {
    kind: 'yolo',
    output: 'o',
    layer: 1,
    mask: [1],
    anchors: [
      [5, 5],
      [16, 8],
    ],
    classes: 2,
    scaleXY: 2,
    newCoords: true,
    nms: DEFAULT_NMS,
  };
  // One 2×1 grid row, one anchor: [tx, ty, tw, th, obj, c0, c1] per cell, already σ'd by the conv.
  const raw = Float32Array.from([0.5, 0.25, 0.5, 0.75, 0.9, 0.8, 0.3, /* cell 1 */ 0.6, 0.5, 0.25, 0.5, 0.4, 0.9, 0.9]);
  const act = activateHead(raw, head);
  assert.ok(near(act[0], 0.5) && near(act[1], 0) && act[2] === 0.5 && act[4] === Math.fround(0.9), `${act}`);
  const [c] = decodeHead(act, [1, 1, 2, 7], head, noLetterbox, 0.5);
  assert.ok(near(c.box.x, (0 + 0.5) / 2) && near(c.box.y, 0), `x ${c.box.x} y ${c.box.y}`);
  assert.ok(near(c.box.w, (0.25 * 4 * 16) / 64) && near(c.box.h, (0.5625 * 4 * 8) / 32), `w ${c.box.w} h ${c.box.h}`);
  assert.ok(near(c.probs[0], 0.72) && c.probs[1] === 0, 'obj × class, 0.27 dropped under the threshold');
  assert.is(decodeHead(act, [1, 1, 2, 7], head, noLetterbox, 0.5).length, 1, 'cell 1: objectness 0.4 is under 0.5');
});

test('[yolo] without new_coords: logistic on x, y, objectness and classes, w = e^t·anchor', () => {
  const head: YoloHead = {
    kind: 'yolo',
    output: 'o',
    layer: 1,
    mask: [0],
    anchors: [[16, 8]],
    classes: 1,
    scaleXY: 1.1,
    newCoords: false,
    nms: DEFAULT_NMS,
  };
  const raw = Float32Array.from([logit(0.25), logit(0.5), Math.log(2), 0, logit(0.8), logit(0.75)]);
  const act = activateHead(raw, head);
  assert.ok(near(act[0], 0.25 * 1.1 - 0.05) && near(act[4], 0.8) && near(act[5], 0.75) && act[2] === raw[2]);
  const [c] = decodeHead(act, [1, 1, 1, 6], head, noLetterbox, 0.5);
  assert.ok(near(c.box.x, 0.225) && near(c.box.w, (2 * 16) / 64) && near(c.box.h, 8 / 32) && near(c.probs[0], 0.6));
});

test('[region]: σ objectness, class softmax, anchors in grid cells, every cell kept with objectness 1', () => {
  const head: RegionHead = {
    kind: 'region',
    output: 'o',
    layer: 1,
    anchors: [[1.5, 0.5]],
    classes: 2,
    softmax: true,
    nms: DEFAULT_NMS,
  };
  const raw = Float32Array.from([
    0,
    logit(0.25),
    Math.log(2),
    0,
    logit(0.9),
    Math.log(3),
    0,
    /* cell 1 */ 0,
    0,
    0,
    0,
    -9,
    0,
    0,
  ]);
  const act = activateHead(raw, head);
  assert.ok(near(act[4], 0.9) && near(act[5], 0.75) && near(act[6], 0.25) && act[0] === 0, `${act}`);
  const cands = decodeHead(act, [1, 1, 2, 7], head, noLetterbox, 0.5);
  assert.is(cands.length, 2);
  assert.ok(cands.every((c) => c.objectness === 1));
  assert.ok(
    near(cands[0].box.x, 0.5 / 2) &&
      near(cands[0].box.y, 0.25) &&
      near(cands[0].box.w, (2 * 1.5) / 2) &&
      near(cands[0].box.h, 0.5),
  );
  assert.ok(near(cands[0].probs[0], 0.675) && cands[0].probs[1] === 0 && cands[1].probs.every((p) => p === 0));
});

test('letterbox correction: a 200×100 image in a 64×64 input is 64×32 centred, boxes stretch back', () => {
  const head: YoloHead = {
    kind: 'yolo',
    output: 'o',
    layer: 1,
    mask: [0],
    anchors: [[32, 16]],
    classes: 1,
    scaleXY: 1,
    newCoords: true,
    nms: DEFAULT_NMS,
  };
  const act = activateHead(Float32Array.from([0.5, 0.5, 0.5, 0.5, 1, 1]), head);
  const [c] = decodeHead(
    act,
    [1, 1, 1, 6],
    head,
    { netW: 64, netH: 64, imageW: 200, imageH: 100, letterbox: true },
    0.5,
  );
  // Relative to the input: centre (0.5, 0.5), 0.5 × 0.25; the image fills rows 16…48.
  assert.ok(
    near(c.box.x, 0.5) && near(c.box.y, 0.5) && near(c.box.w, 0.5) && near(c.box.h, 0.5),
    JSON.stringify(c.box),
  );
});

const cand = (x: number, w: number, p: number): Candidate => ({
  box: { x, y: 0.5, w, h: 0.2 },
  objectness: p,
  probs: Float32Array.of(p),
});

test('NMS kinds: IoU for default, DIoU β=0.6 for greedynms (whatever beta_nms), DIoU β=beta_nms for diounms', () => {
  const a = cand(0.5, 0.2, 0.9).box,
    b = cand(0.6, 0.2, 0.8).box;
  // Overlap 0.1 × 0.2 of a union 0.06: IoU 1/3; enclosing box 0.3 × 0.2, centres 0.1 apart: d²/c² = 0.01/0.13.
  assert.ok(near(boxIou(a, b), 1 / 3));
  assert.ok(near(boxDiou(a, b, 0.6), 1 / 3 - (0.01 / 0.13) ** 0.6) && near(boxDiou(a, b, 1), 1 / 3 - 0.01 / 0.13));
  const survivors = (thresh: number, kind: 'default' | 'greedynms' | 'diounms', beta = 0.6) =>
    nms([cand(0.5, 0.2, 0.9), cand(0.6, 0.2, 0.8)], 1, thresh, { kind, beta }).filter((c) => c.probs[0] > 0).length;
  assert.is(survivors(0.3, 'default'), 1);
  assert.is(survivors(0.3, 'greedynms'), 2); // 0.119 < 0.3
  assert.is(survivors(0.3, 'greedynms', 1), 2); // beta_nms does not apply to greedynms
  assert.is(survivors(0.3, 'diounms', 1), 2); // 0.256 < 0.3
  assert.is(survivors(0.25, 'diounms', 1), 1);
  assert.is(survivors(0.25, 'diounms', 0.6), 2);
});

test('%.0f rounds exact halves to even; percentages are float prob·100; order by left edge, best class first', () => {
  assert.equal([0.5, 1.5, 2.5, 60.49, 60.5, 61.5, 99.5].map(printfRound), [0, 2, 2, 60, 60, 62, 100]);
  assert.is(darknetPercent(0.60601), 61);
  // fround(0.605)·100 is exactly 60.5 in float, which %.0f prints as 60 (Math.round would say 61); 0.665 gives 66.
  assert.equal([0.605, 0.665, 0.615].map(darknetPercent), [60, 66, 62]);
  const cands = [
    { box: { x: 0.7, y: 0.5, w: 0.2, h: 0.2 }, objectness: 1, probs: Float32Array.of(0.9, 0.6) },
    { box: { x: 0.3, y: 0.5, w: 0.2, h: 0.2 }, objectness: 1, probs: Float32Array.of(0.55, 0.8) },
  ];
  const dets = toDetections(cands, ['cat', 'dog'], 100, 50, 0.5);
  assert.equal(
    dets.map((d) => d.className),
    ['cat', 'dog', 'dog', 'cat'],
    'by score',
  );
  assert.equal(
    darknetOrder(dets).map((d) => `${d.className} ${d.darknetBox.left}`),
    ['dog 20', 'cat 20', 'cat 60', 'dog 60'],
  );
  assert.equal(dets[0].darknetBox, { left: 60, top: 20, width: 20, height: 10 });
});

test.run();
