// The model loaders as a program meets them: one call from a source and options to { model, info }, on
// the shared context unless given one, every buffer and lease back on dispose(), errors naming the file.
// Their numbers are checked against real Keras and Darknet in the tests of each format; here the
// Darknet loader's heads are checked against real Darknet's sums for the bundled Yolo-Fastest.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelFileError } from '../src/errors.js';
import { GpuContext } from '../src/gpu/context.js';
import { decodeImage } from '../src/io/image.js';
import { loadDarknetModel } from '../src/models/darknet-model.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import type { LoadProgress } from '../src/progress.js';
import { letterbox } from '../src/models/yolo/letterbox.js';
import { activateHead } from '../src/models/yolo/yolo.js';
import { rejects, withGpu } from './harness.js';

const test = suite('loaders');
const gpu = withGpu(test);
const CFG = 'assets/darknet/yolo-fastest-1.1.cfg',
  WEIGHTS = 'assets/darknet/yolo-fastest-1.1.weights';

test('loadDarknetModel: cfg path or text, weights path or bytes; heads as real Darknet sums them (1e-3)', async () => {
  const ctx = await gpu();
  const input = letterbox(await decodeImage('test/fixtures/darknet/dog.stb.png'), 320, 320).data;
  const fromPaths = await loadDarknetModel(CFG, WEIGHTS, { ctx });
  const fromBytes = await loadDarknetModel(readFileSync(CFG, 'utf8'), readFileSync(WEIGHTS), { ctx });
  try {
    assert.equal([fromPaths.info.width, fromPaths.info.height, fromPaths.info.heads.length], [320, 320, 2]);
    const a = await fromPaths.model.run(input),
      b = await fromBytes.model.run(input);
    assert.equal(a.outputs, b.outputs);
    const darknet = [480.995612, 2853.33157]; // formats.md §2.9, real Darknet on the stb-decoded dog
    fromPaths.info.heads.forEach((head, i) => {
      const sum = activateHead(a.outputs[i], head).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - darknet[i]) / darknet[i] < 1e-3, `head ${i}: ${sum} vs ${darknet[i]}`);
    });
  } finally {
    fromPaths.model.dispose();
    fromBytes.model.dispose();
  }
});

test('loadDarknetModel with no ctx leases the shared context; dispose and failed loads return it all', async () => {
  const held = await GpuContext.shared();
  try {
    const before = held.liveBytes;
    const { model } = await loadDarknetModel(CFG, WEIGHTS, { inputSize: [160, 160] });
    assert.is(model.ctx, held);
    assert.equal(model.inputShapes, [[160, 160, 3]]);
    model.dispose();
    assert.is(held.liveBytes, before);
    const truncated = readFileSync(WEIGHTS).subarray(0, 100_000);
    await rejects(loadDarknetModel(CFG, truncated, {}), /weights: .*bytes/, ModelFileError);
    await rejects(loadDarknetModel(CFG, 'missing.weights'), /missing\.weights: no such file/, ModelFileError);
    await rejects(
      loadDarknetModel('[net]\nwidth=320\nheight=320\n[bogus]\n', WEIGHTS),
      /cfg.*line 4.*bogus/i,
      ModelFileError,
    );
    assert.is(held.liveBytes, before);
  } finally {
    held.release();
  }
});

test('onProgress: every layer read, every weight byte uploaded, every kernel compiled, in that order', async () => {
  const events: LoadProgress[] = [];
  const { model, info } = await loadKerasModel('test/fixtures/keras/moonflower_mnist_cnn_keras3.1.1.keras', {
    ctx: await gpu(),
    onProgress: (p) => events.push(p),
  });
  try {
    const stages = [...new Set(events.map((e) => e.stage))];
    assert.equal(stages, ['read', 'upload', 'compile']);
    for (const stage of stages) {
      const of = events.filter((e) => e.stage === stage);
      assert.ok(
        of.every((e, i) => e.total === of[0].total && e.done <= e.total && (i === 0 || e.done > of[i - 1].done)),
        `${stage} counts up`,
      );
      assert.is(of[of.length - 1].done, of[0].total, `${stage} ends complete`);
    }
    assert.is(events.find((e) => e.stage === 'read')!.total, info.spec.layers.length);
    assert.is(events.find((e) => e.stage === 'upload')!.total, model.weightBytes);
  } finally {
    model.dispose();
  }
});

test.run();
