// The batch-norm fold of the Darknet loader against AlexeyAB's fuse_conv_batchnorm, written out here: per
// filter f, k = scales[f]/√(rolling_variance[f] + 0.00001) in double, kernel·k and biases − scales·mean/√(…)
// rounded to float. Variances at zero, near zero and negative denormals (real MobileNetV2-YOLO-Fastest-voc has
// −7e-44) must fold to finite values that pjreddie's √σ² + 1e-6 would get wrong (test/darknet-mobilenet.test.ts
// checks that real model against Darknet's detections).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDarknet } from '../src/io/darknet/network.js';

const test = suite('darknet batch-norm fold');

const VARIANCES = [-7.006e-44, 0, 1e-9, 1e-7, 9.9e-7, 4.8e-4, 1, 2.5];
const N = VARIANCES.length,
  C = 3,
  SIZE = 3;
const CFG = [
  '[net]',
  'width=32',
  'height=32',
  'channels=3',
  '[convolutional]',
  'batch_normalize=1',
  `filters=${N}`,
  `size=${SIZE}`,
  'stride=1',
  'pad=1',
  'activation=linear',
  '[convolutional]',
  'filters=18',
  'size=1',
  'stride=1',
  'pad=1',
  'activation=linear',
  '[yolo]',
  'mask=0,1,2',
  'anchors=10,14, 23,27, 37,58',
  'classes=1',
  'num=3',
].join('\n');

/** A weights file whose first conv has these variances; every other value is a simple function of its index. */
function weightsFile(variances: number[]): {
  bytes: Uint8Array;
  biases: number[];
  scales: number[];
  means: number[];
  kernel: number[];
} {
  const biases = variances.map((_, f) => 0.1 * (f - 3)),
    scales = variances.map((_, f) => 0.5 + 0.125 * f);
  const means = variances.map((_, f) => 0.05 * f - 0.2),
    kernel = Array.from({ length: N * C * SIZE * SIZE }, (_, i) => Math.sin(i) / 3);
  const head = Array.from({ length: 18 + 18 * N }, (_, i) => Math.cos(i) / 10);
  const values = [...biases, ...scales, ...means, ...variances, ...kernel, ...head];
  const bytes = new Uint8Array(20 + 4 * values.length);
  const view = new DataView(bytes.buffer);
  view.setInt32(4, 2, true);
  values.forEach((v, i) => view.setFloat32(20 + 4 * i, v, true));
  const f32 = (a: number[]) => a.map(Math.fround);
  return { bytes, biases: f32(biases), scales: f32(scales), means: f32(means), kernel: f32(kernel) };
}

test("the fold is AlexeyAB's fuse_conv_batchnorm: finite for zero, tiny and negative-denormal variances", () => {
  const file = weightsFile(VARIANCES);
  const net = buildDarknet(CFG, 'bn.cfg', { bytes: file.bytes, file: 'bn.weights' });
  const w = net.weights.get('0_conv')!;
  const variance = VARIANCES.map(Math.fround);
  for (let f = 0; f < N; f++) {
    const root = Math.sqrt(variance[f] + 0.00001);
    const k = file.scales[f] / root;
    assert.is(w.bias[f], Math.fround(file.biases[f] - (file.scales[f] * file.means[f]) / root), `bias ${f}`);
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < SIZE; ky++)
        for (let kx = 0; kx < SIZE; kx++) {
          const oihw = file.kernel[((f * C + c) * SIZE + ky) * SIZE + kx];
          const hwio = w.kernel[((ky * SIZE + kx) * C + c) * N + f];
          assert.is(hwio, Math.fround(oihw * k), `kernel f${f} c${c} ${ky},${kx}`);
        }
    // pjreddie's scale / (√σ² + 1e-6): NaN for the negative denormal, 3–10× off below 1e-6, close at 1.
    const pjreddie = file.scales[f] / (Math.sqrt(variance[f]) + 0.000001);
    if (variance[f] < 0) assert.ok(Number.isNaN(pjreddie));
    else if (variance[f] < 1e-6) assert.ok(pjreddie / k > 2.5, `variance ${variance[f]}: pjreddie ${pjreddie} vs ${k}`);
    else if (variance[f] >= 1) assert.ok(Math.abs(pjreddie / k - 1) < 1e-4);
  }
});

test('a variance below −1e-5 is refused naming the layer and the tensor', () => {
  const file = weightsFile(VARIANCES.map((v, i) => (i === 5 ? -0.5 : v)));
  assert.throws(
    () => buildDarknet(CFG, 'bn.cfg', { bytes: file.bytes, file: 'bn.weights' }),
    /bn\.weights: layer 0_conv \(cfg line 5\): rolling_variance\[5\] is -0\.5, not above -0\.00001/,
  );
});

test.run();
