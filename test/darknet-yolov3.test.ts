// yolov3.cfg and yolov3-tiny.cfg with weights files generated in the exact format and size, every
// layer's output compared with the independent float64 Darknet forward pass (darknet-reference.ts, NCHW,
// reading the weights file itself); reduced input sizes keep the float64 reference fast in CI. And the
// loader's errors for bad cfgs and weights.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/models/yolo/detector.js';
import { activateHead } from '../src/models/yolo/yolo.js';
import { buildDarknet } from '../src/io/darknet/network.js';
import { Model } from '../src/graph/model.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { writeDarknetWeights } from './darknet-writer.js';
import { referenceForward, toNhwc } from './darknet-reference.js';

const test = suite('yolov3 and yolov3-tiny');
const gpu = withGpu(test);
const dir = mkdtempSync(join(tmpdir(), 'yolo-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const CASES: [string, number, [number, number]][] = [
  ['yolov3-tiny.cfg', 35_434_956, [128, 96]],
  ['yolov3.cfg', 248_007_048, [96, 64]],
];

for (const [cfgName, bytes, size] of CASES) {
  const dims = size.join('×');
  test(`${cfgName}: ${bytes}-byte weights load; every layer matches the float64 reference at ${dims}`, async () => {
    const cfgText = readFileSync(`assets/darknet/${cfgName}`, 'utf8');
    const weightsPath = join(dir, `${cfgName}.weights`);
    assert.is(writeDarknetWeights(weightsPath, cfgText, 7), bytes);
    const weights = readFileSync(weightsPath);
    const net = buildDarknet(cfgText, cfgName, { bytes: weights, file: weightsPath }, size);
    const layerNames = net.graph.nodes.filter((n) => /^\d+_/.test(n.name)).map((n) => n.name);
    const model = await Model.create(await gpu(), net, { keep: layerNames });
    try {
      const x = randomArray(size[0] * size[1] * 3, 3, 0, 1);
      const nchw = new Float64Array(x.length);
      for (let p = 0; p < size[0] * size[1]; p++)
        for (let c = 0; c < 3; c++) nchw[c * size[0] * size[1] + p] = x[p * 3 + c];
      const ref = referenceForward(cfgText, weights, nchw, [size[1], size[0]]);
      const r = await model.run(x, { intermediates: layerNames });
      let worst = 0;
      ref.forEach((t, i) => {
        const name = layerNames[i];
        const got = r.intermediates.get(name)!;
        assert.equal(got.shape, [1, t.h, t.w, t.c], name);
        // The reference's [yolo] output is the layer's (Darknet's logistic applied); ours is the conv's, decoded on
        // the CPU.
        const head = net.heads.find((h) => h.layer === i);
        const mine = head ? activateHead(got.data, head) : got.data;
        worst = Math.max(worst, assertClose(mine, toNhwc(t), 1e-4, `${cfgName} ${name}`, 'normalized').normalized);
      });
      assert.is(r.outputs.length, cfgName === 'yolov3.cfg' ? 3 : 2);
    } finally {
      model.dispose();
    }
  });
}

test('yolov3 at 416 and 608 builds the three heads at strides 32, 16, 8', () => {
  const cfgText = readFileSync('assets/darknet/yolov3.cfg', 'utf8');
  for (const s of [416, 608]) {
    const net = buildDarknet(cfgText, 'yolov3.cfg', undefined, [s, s]);
    assert.equal(
      net.heads.map((h) => (h.kind === 'yolo' ? h.mask : [])),
      [
        [6, 7, 8],
        [3, 4, 5],
        [0, 1, 2],
      ],
    );
    assert.equal(net.graph.outputs, ['82_yolo', '94_yolo', '106_yolo']);
  }
});

test('a detector from files detects on a real image at 416 (generated weights: runs end to end)', async () => {
  const weightsPath = join(dir, 'yolov3-tiny.cfg.weights');
  const det = await Detector.load({
    ctx: await gpu(),
    cfg: 'assets/darknet/yolov3-tiny.cfg',
    weights: weightsPath,
    names: 'assets/darknet/coco.names',
  });
  try {
    const r = await det.detect('assets/images/dog.jpg', { thresh: 0.99 });
    assert.ok(Array.isArray(r.detections));
    assert.equal(
      det.network.heads.map((h) => h.layer),
      [16, 23],
    );
  } finally {
    det.dispose();
  }
});

test('route groups/group_id takes a channel slice; an old header (seen as int32) is 16 bytes', async () => {
  const cfg = [
    '[net]',
    'width=32',
    'height=32',
    'channels=3',
    '[convolutional]',
    'filters=8',
    'size=3',
    'stride=1',
    'pad=1',
    'activation=leaky',
    '[route]',
    'layers=-1',
    'groups=2',
    'group_id=1',
    '[convolutional]',
    'filters=18',
    'size=1',
    'stride=1',
    'pad=0',
    'activation=linear',
    '[yolo]',
    'mask=0,1,2',
    'anchors=10,14, 23,27, 37,58',
    'classes=1',
    'num=3',
  ].join('\n');
  const params = 8 + 8 * 3 * 9 + 18 + 18 * 4;
  const bytes = new Uint8Array(16 + 4 * params);
  const view = new DataView(bytes.buffer);
  view.setInt32(4, 1, true); // version 0.1.0: `seen` is an int32
  const values = randomArray(params, 5);
  values.forEach((v, i) => view.setFloat32(16 + 4 * i, v, true));
  const net = buildDarknet(cfg, 'groups.cfg', { bytes, file: 'groups.weights' });
  assert.is(net.version?.minor, 1);
  const model = await Model.create(await gpu(), net, { keep: ['0_conv', '1_route'] });
  try {
    const r = await model.run(randomArray(32 * 32 * 3, 6), { intermediates: ['0_conv', '1_route'] });
    const conv = r.intermediates.get('0_conv')!.data,
      route = r.intermediates.get('1_route')!;
    assert.equal(route.shape, [1, 32, 32, 4]);
    const expected = Array.from({ length: 32 * 32 * 4 }, (_, i) => conv[Math.floor(i / 4) * 8 + 4 + (i % 4)]);
    assert.equal(Array.from(route.data), expected);
  } finally {
    model.dispose();
  }
});

// Bad input: each a clear error.
const tiny = () => readFileSync('assets/darknet/yolov3-tiny.cfg', 'utf8');

test('truncated weights and weights for another cfg give the expected and actual sizes', () => {
  const weights = readFileSync(join(dir, 'yolov3-tiny.cfg.weights'));
  assert.throws(
    () => buildDarknet(tiny(), 'yolov3-tiny.cfg', { bytes: weights.subarray(0, 1_000_000), file: 'cut.weights' }),
    /cut\.weights: is 1000000 bytes, but yolov3-tiny\.cfg needs 35434956 .*truncated, or weights for another cfg/,
  );
  const fastest = readFileSync('assets/darknet/yolo-fastest-1.1.weights');
  assert.throws(
    () => buildDarknet(tiny(), 'yolov3-tiny.cfg', { bytes: fastest, file: 'fastest.weights' }),
    /fastest\.weights: is 1384268 bytes, but yolov3-tiny\.cfg needs 35434956/,
  );
});

test('a cfg with an unknown section, a route to a missing layer, or mismatched concat sizes names the line', () => {
  assert.throws(
    () => buildDarknet(tiny().replace('[upsample]', '[deformable]'), 'x.cfg'),
    /x\.cfg: line \d+: section \[deformable\] is not supported/,
  );
  assert.throws(
    () => buildDarknet(tiny().replace('layers = -1, 8', 'layers = -1, 40'), 'x.cfg'),
    /x\.cfg: line \d+: \[route\] layers: layer 40 \(absolute 40\) does not exist before layer 20/,
  );
  assert.throws(
    () => buildDarknet(tiny().replace('layers = -1, 8', 'layers = -1, 6'), 'x.cfg'),
    /x\.cfg: line \d+: \[route\] layers: concatenates layers of different sizes \(26×26, 52×52\)/,
  );
  assert.throws(
    () => buildDarknet(tiny().replace('filters=1024', 'filters=1024\nxnor=1'), 'x.cfg'),
    /line \d+: key 'xnor' in \[convolutional\] is not supported/,
  );
  assert.throws(() => buildDarknet('[convolutional]\nfilters=3', 'y.cfg'), /y\.cfg: the first section must be \[net\]/);
});

test.run();
