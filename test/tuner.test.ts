// The tuner: shape classes found in a model, the fastest candidate chosen and cached per adapter, and
// planners using the cached choice (with the same results).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDarknet } from '../src/io/darknet/network.js';
import { GpuContext } from '../src/gpu/context.js';
import { loadTuning } from '../src/gpu/tuning-cache.js';
import { weighted, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { conv2dClass, lowerConv2d } from '../src/ops/conv2d.js';
import { candidatesFor, tune, tuneCasesForGraph, tuneGraph } from '../src/tune/tuner.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { refConv2d } from './reference.js';

const test = suite('tuner');
const gpu = withGpu(test);
const dir = mkdtempSync(join(tmpdir(), 'tuner-'));
process.env.WEBGPU_CNN_TUNING = join(dir, 'tuning.json');
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("yolov3-tiny's shape classes: Winograd GEMMs, 1×1 GEMMs, the narrow first conv", async () => {
  const net = buildDarknet(
    readFileSync('assets/darknet/yolov3-tiny.cfg', 'utf8'),
    'yolov3-tiny.cfg',
    undefined,
    [128, 128],
  );
  const keys = tuneCasesForGraph(net.graph, (await gpu()).caps).map((c) => c.key);
  assert.ok(keys.includes(conv2dClass(3, 3, 1, 16)), keys.join(', '));
  assert.ok(
    keys.some((k) => k.startsWith('gemm-batched')),
    keys.join(', '),
  );
  assert.ok(
    keys.some((k) => /^gemm m/.test(k)),
    keys.join(', '),
  );
  assert.is(new Set(keys).size, keys.length);
});

test('tune picks one of the candidates, the cache keeps it per adapter, and plans use it', async () => {
  const ctx = await gpu();
  const key = conv2dClass(3, 3, 2, 24);
  const [r] = await tune(ctx, [
    { key, problem: { kind: 'conv2d', x: [1, 20, 20, 8], w: [3, 3, 8, 24], stride: 2, padding: 'same' } },
  ]);
  assert.ok(
    candidatesFor(key, 256, ctx.caps.subgroupMinSize).some((v) => JSON.stringify(v) === JSON.stringify(r.chosen)),
  );
  assert.ok(r.ms > 0 && r.defaultMs > 0);
  const { saveTuning } = await import('../src/gpu/tuning-cache.js');
  await saveTuning(ctx.description, { [key]: r.chosen });
  assert.equal((await loadTuning(ctx.description))[key], r.chosen);
  assert.equal(await loadTuning('another adapter'), {});
  // A new context on this adapter plans that class with the cached variant.
  const fresh = await GpuContext.create();
  try {
    const [call] = lowerConv2d(
      { kernelShape: [3, 3, 8, 24], attrs: { strides: [2, 2], padding: 'same' } },
      { caps: fresh.caps, inputs: [[1, 20, 20, 8]] },
    ).dispatches;
    assert.is(call.kernel, r.chosen.kind === 'subgroup' ? 'conv2d-subgroup' : 'conv2d');
    assert.equal([call.spec.TM, call.spec.TN, call.spec.WG_X], [r.chosen.tm, r.chosen.tn, r.chosen.wgX]);
  } finally {
    fresh.dispose();
  }
});

test('tuneGraph tunes what is missing, and the model then computes the right thing', async () => {
  const ctx = await gpu();
  const w = randomArray(3 * 3 * 5 * 40, 1),
    b = randomArray(40, 2);
  const nodes: WeightedNode[] = [
    { name: 'in', op: { kind: 'input', shape: [12, 12, 5] }, inputs: [] },
    {
      name: 'conv',
      op: { kind: 'conv2d', attrs: { strides: [2, 2], padding: 'valid' }, kernelShape: [3, 3, 5, 40] },
      inputs: ['in'],
      weights: { kernel: w, bias: b },
    },
  ];
  const g = weighted({ name: 'small', nodes, inputs: ['in'], outputs: ['conv'] });
  await tuneGraph(ctx, g.graph);
  const model = await Model.create(ctx, g);
  try {
    assert.ok((await loadTuning(ctx.description))[conv2dClass(3, 3, 2, 40)], 'the class was tuned and cached');
    const x = randomArray(12 * 12 * 5, 3);
    const ref = refConv2d({ x, xShape: [1, 12, 12, 5], w, wShape: [3, 3, 5, 40], b, strides: [2, 2] });
    assertClose(await model.predict(x), ref.y, 1e-5, 'tuned conv', 'normalized');
  } finally {
    model.dispose();
  }
});

test.run();
