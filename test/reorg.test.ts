// The reorg kernel (src/ops/reorg.ts) against float64 index arithmetic written from SECTIONS.md §4.8, at
// shapes that do not fill a workgroup, and against real Darknet: yolov2's [reorg] layer, L026 → L027.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { weighted } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { parseNpy } from '../src/io/npy.js';
import type { ReorgOp } from '../src/ops/reorg.js';
import { randomArray, withGpu } from './harness.js';

const test = suite('reorg');
const gpu = withGpu(test);

/**
 * NCHW in, NCHW out. Old reorg: with C' = C/s², for k < C, j < H, i < W (the input's dims),
 * out[i + W(j + H·k)] = in[(i·s + o % s) + W·s·((j·s + o / s) + H·s·(k % C'))], o = k / C'.
 * Space-to-depth: out[(dy·s + dx)·C + c][y][x] = in[c][y·s + dy][x·s + dx].
 */
function expected(x: Float32Array, [c, h, w]: number[], { stride: s, mode }: ReorgOp): Float64Array {
  const out = new Float64Array(x.length);
  if (mode === 'darknet') {
    const cp = c / (s * s);
    for (let k = 0; k < c; k++)
      for (let j = 0; j < h; j++)
        for (let i = 0; i < w; i++) {
          const o = Math.floor(k / cp);
          out[i + w * (j + h * k)] = x[i * s + (o % s) + w * s * (j * s + Math.floor(o / s) + h * s * (k % cp))];
        }
    return out;
  }
  const oh = h / s,
    ow = w / s;
  for (let dy = 0; dy < s; dy++)
    for (let dx = 0; dx < s; dx++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++)
            out[(((dy * s + dx) * c + ch) * oh + y) * ow + xx] = x[(ch * h + y * s + dy) * w + xx * s + dx];
  return out;
}

const nchwToNhwc = (d: ArrayLike<number>, c: number, hw: number) =>
  Float32Array.from({ length: c * hw }, (_, i) => d[(i % c) * hw + Math.floor(i / c)]);

async function run(nchw: Float32Array, [c, h, w]: number[], op: ReorgOp): Promise<Float32Array> {
  const g = weighted({
    name: 'reorg',
    inputs: ['x'],
    outputs: ['y'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [h, w, c] }, inputs: [] },
      { name: 'y', op: { kind: 'reorg', ...op }, inputs: ['x'] },
    ],
  });
  const model = await Model.create(await gpu(), g);
  try {
    const r = await model.run(nchwToNhwc(nchw, c, h * w));
    const s = op.stride,
      oc = c * s * s,
      ohw = (h / s) * (w / s);
    assert.equal(r.shapes[0], [1, h / s, w / s, oc]);
    // Back to NCHW to compare.
    return Float32Array.from({ length: oc * ohw }, (_, i) => r.outputs[0][(i % ohw) * oc + Math.floor(i / ohw)]);
  } finally {
    model.dispose();
  }
}

for (const [shape, stride] of [
  [[4, 6, 10], 2],
  [[18, 6, 9], 3],
  [[64, 26, 26], 2],
  [[8, 4, 4], 1],
] as [number[], number][]) {
  for (const mode of ['darknet', 'space-to-depth'] as const) {
    test(`${mode} reorg of ${shape.join('×')} (C×H×W), stride ${stride}: exact`, async () => {
      const x = randomArray(shape[0] * shape[1] * shape[2], stride + shape[0]);
      assert.equal(Array.from(await run(x, shape, { stride, mode })), Array.from(expected(x, shape, { stride, mode })));
    });
  }
}

test("yolov2's [reorg] (L026 → L027) as real Darknet computed it: exact", async () => {
  const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)), p);
  const input = npy('test/fixtures/darknet-zoo/synthetic/yolov2/L026.npy'),
    out = npy('test/fixtures/darknet-zoo/synthetic/yolov2/L027.npy');
  assert.equal(
    [input.shape, out.shape],
    [
      [64, 6, 8],
      [256, 3, 4],
    ],
  );
  assert.equal(Array.from(await run(input.data, input.shape, { stride: 2, mode: 'darknet' })), Array.from(out.data));
});

test.run();
