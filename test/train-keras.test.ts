// Transfer learning against real Keras (fixtures from scripts/keras-fixtures/train_head.py):
// our codes for the committed images are Keras's; on Keras's codes of the whole generated set, our
// head trained with the same recipe reaches Keras's validation accuracy (mean over the same 5 seeds,
// within 0.02); and `train-head --images --base` does codes, training and both saves in one go.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKerasGraph } from '../src/io/keras.js';
import { readNpy } from '../src/io/npy.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { runCli } from '../src/tools/main.js';
import { parseLabelNpy, toTargets } from '../src/train/labels.js';
import { trainHead } from '../src/train/trainer.js';
import { assertClose, withGpu } from './harness.js';

const test = suite('train-keras');
const gpu = withGpu(test);
const DIR = 'test/fixtures/transfer';

interface KerasReport {
  recipe: { hidden: number; dropout: number; epochs: number; batch: number; lr: number; patience: number };
  classes: string[];
  val_accuracy_mean: number;
  runs: { seed: number; val_accuracy: number }[];
}
const report = JSON.parse(readFileSync(`${DIR}/keras_training.json`, 'utf8')) as KerasReport;

function captured() {
  const lines: string[] = [];
  return {
    io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), tty: false, quiet: false },
    lines,
  };
}

test("codes: a VGG16-style base's block5_pool, avg pooled, of class folders: Keras's codes and labels", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'codes-'));
  try {
    const { io, lines } = captured();
    const code = await runCli(
      [
        'codes',
        '--model',
        `${DIR}/base.h5`,
        '--layer',
        'block5_pool',
        '--pooling',
        'avg',
        `${DIR}/images/train`,
        '--out',
        join(dir, 'codes.npy'),
      ],
      io,
    );
    assert.is(code, 0, lines.join('\n'));
    const ours = await readNpy(join(dir, 'codes.npy')),
      keras = await readNpy(`${DIR}/codes_committed_train.npy`);
    assert.equal(ours.shape, keras.shape);
    assertClose(ours.data, keras.data, 1e-4, 'codes', 'normalized');
    const labels = parseLabelNpy(readFileSync(join(dir, 'labels.npy')), 'labels.npy');
    assert.equal(
      Array.from(labels.data),
      report.classes.flatMap((_, c) => [c, c, c]),
    );
    assert.equal(JSON.parse(readFileSync(join(dir, 'classes.json'), 'utf8')), report.classes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the recipe on Keras's codes: our mean validation accuracy over the 5 seeds is Keras's within 0.02", async () => {
  const ctx = await gpu();
  const read = async (f: string) => parseLabelNpy(readFileSync(`${DIR}/${f}`), f);
  const [x, y, vx, vy] = await Promise.all(
    ['codes_train.npy', 'labels_train.npy', 'codes_val.npy', 'labels_val.npy'].map(read),
  );
  const t = toTargets(y),
    vt = toTargets(vy, t.classes);
  const r = report.recipe;
  const spec = {
    inputs: x.shape[1],
    hidden: [r.hidden],
    dropout: r.dropout,
    classes: t.classes,
    output: 'softmax' as const,
  };
  const accuracies: number[] = [];
  for (const { seed } of report.runs) {
    const result = await trainHead(
      ctx,
      { features: x.data, targets: t.targets, rows: t.rows },
      {
        spec,
        epochs: r.epochs,
        batchSize: r.batch,
        optimizer: { kind: 'adam', learningRate: r.lr },
        seed,
        validation: { features: vx.data, targets: vt.targets, rows: vt.rows },
        patience: r.patience,
      },
    );
    accuracies.push(result.history[result.bestEpoch - 1].valAccuracy!);
  }
  const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
  console.log(
    `  validation accuracy: ours ${mean.toFixed(4)} (${accuracies.map((a) => a.toFixed(2)).join(', ')}), ` +
      `Keras ${report.val_accuracy_mean.toFixed(4)} (${report.runs.map((k) => k.val_accuracy.toFixed(2)).join(', ')})`,
  );
  assert.ok(
    Math.abs(mean - report.val_accuracy_mean) <= 0.02,
    `ours ${mean} against Keras's ${report.val_accuracy_mean}`,
  );
});

test('train-head --images --base: codes, training, both saves; the whole model is the head on the codes', async () => {
  const ctx = await gpu();
  const dir = mkdtempSync(join(tmpdir(), 'train-head-'));
  try {
    const { io, lines } = captured();
    const code = await runCli(
      [
        'train-head',
        '--images',
        `${DIR}/images/train`,
        '--val-images',
        `${DIR}/images/val`,
        '--base',
        `${DIR}/base.h5`,
        '--layer',
        'block5_pool',
        '--pooling',
        'avg',
        '--epochs',
        '4',
        '--batch',
        '4',
        '--hidden',
        '16',
        '--out',
        join(dir, 'head.keras'),
        '--full-out',
        join(dir, 'full.h5'),
        '--history',
        join(dir, 'history.json'),
      ],
      io,
    );
    assert.is(code, 0, lines.join('\n'));
    assert.ok(
      lines.some((l) => /^epoch 4\/4: loss/.test(l)),
      lines.join('\n'),
    );
    const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    assert.is(history.history.length, 4);
    const head = await loadKerasModel(join(dir, 'head.keras'), { ctx });
    const full = await loadKerasModel(join(dir, 'full.h5'), { ctx, keep: ['global_average_pooling2d'] });
    try {
      const codes = await readNpy(`${DIR}/codes_committed_train.npy`);
      const { computeCodes, loadCodeBase } = await import('../src/train/codes.js');
      const base = await loadCodeBase(ctx, join(dir, 'full.h5'));
      const files = report.classes.flatMap((c) =>
        [0, 1, 2].map((i) => `${DIR}/images/train/${c}/${String(i).padStart(3, '0')}.png`),
      );
      const whole = await computeCodes(base, files);
      base.dispose();
      assertClose(
        whole,
        await head.model.predict(codes.data, codes.shape[0]),
        1e-4,
        'full model vs head(codes)',
        'normalized',
      );
    } finally {
      head.model.dispose();
      full.model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('classify --classes: the saved whole model names the top class Keras predicted for each image', async () => {
  const check = JSON.parse(readFileSync(`${DIR}/saved/keras_check.json`, 'utf8')) as { images: string[] };
  const keras = await readNpy(`${DIR}/saved/keras_full_keras.npy`);
  const images = check.images.slice(0, 4).map((f) => `${DIR}/${f}`);
  const { io, lines } = captured();
  const code = await runCli(
    ['classify', '--model', `${DIR}/saved/full.keras`, '--classes', `${DIR}/classes.json`, '--top', '1', ...images],
    io,
  );
  assert.is(code, 0, lines.join('\n'));
  images.forEach((f, i) => {
    const p = keras.data.subarray(i * 4, i * 4 + 4);
    const top = report.classes[p.indexOf(Math.max(...p))];
    const at = lines.indexOf(`${f}:`);
    assert.ok(
      at >= 0 && new RegExp(`^1\\s+${top}\\s`).test(lines[at + 1].split('\n').at(-1)!),
      `${f}: ${lines[at + 1]}`,
    );
  });
  const bad = captured();
  assert.is(
    await runCli(
      ['classify', '--model', `${DIR}/saved/full.keras`, '--classes', `${DIR}/keras_training.json`, images[0]],
      bad.io,
    ),
    2,
  );
  assert.match(bad.lines.join('\n'), /keras_training\.json: is not a JSON list of class names/);
});

test('train-head --fine-tune: block5 trains with the head and is saved in the whole model; block4 stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fine-tune-'));
  try {
    const { io, lines } = captured();
    const argv = [
      'train-head',
      '--images',
      `${DIR}/images/train`,
      '--base',
      `${DIR}/base.h5`,
      '--layer',
      'block5_pool',
      '--pooling',
      'avg',
      '--fine-tune',
      '--epochs',
      '3',
      '--batch',
      '4',
      '--hidden',
      '8',
      '--out',
      join(dir, 'head.keras'),
      '--full-out',
      join(dir, 'full.keras'),
    ];
    assert.is(await runCli(argv, io), 0, lines.join('\n'));
    assert.ok(
      lines.some((l) => /fine-tuning block5_conv1, block5_conv2, block5_conv3, block5_pool on block4_pool/.test(l)),
    );
    const [tuned, base] = await Promise.all([
      loadKerasGraph(join(dir, 'full.keras')),
      loadKerasGraph(`${DIR}/base.h5`),
    ]);
    const kernel = (g: typeof base, layer: string) => Array.from(g.weights.get(layer)!.kernel);
    assert.equal(kernel(tuned, 'block4_conv3'), kernel(base, 'block4_conv3'));
    assert.not.equal(kernel(tuned, 'block5_conv1'), kernel(base, 'block5_conv1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train-head refuses bad input before training, naming it', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--features', `${DIR}/codes_train.npy`, '--labels', `${DIR}/labels_val.npy`, '--out', '/tmp/x.keras'],
      /240 rows of codes but 400 labels/,
    ],
    [
      ['--features', `${DIR}/codes_train.npy`, '--labels', `${DIR}/labels_train.npy`, '--out', '/tmp/x.onnx'],
      /--out: .* must end in \.keras/,
    ],
    [['--features', `${DIR}/codes_train.npy`, '--out', '/tmp/x.keras'], /--labels: is required/],
    [['--images', `${DIR}/images/train`, '--out', '/tmp/x.keras'], /--images: needs --base/],
    [
      [
        '--features',
        `${DIR}/codes_train.npy`,
        '--labels',
        `${DIR}/labels_train.npy`,
        '--hidden',
        '12,x',
        '--out',
        '/tmp/x.keras',
      ],
      /--hidden/,
    ],
    [
      [
        '--features',
        `${DIR}/codes_train.npy`,
        '--labels',
        `${DIR}/labels_train.npy`,
        '--full-out',
        '/tmp/f.keras',
        '--out',
        '/tmp/x.keras',
      ],
      /--full-out: needs --base/,
    ],
  ];
  cases.push([
    [
      '--features',
      `${DIR}/codes_train.npy`,
      '--labels',
      `${DIR}/labels_train.npy`,
      '--fine-tune',
      '--out',
      '/tmp/x.keras',
    ],
    /--fine-tune: needs --images/,
  ]);
  cases.push([
    ['--images', `${DIR}/classes.json`, '--base', `${DIR}/base.h5`, '--out', '/tmp/x.keras'],
    /classes\.json: is not a directory/,
  ]);
  for (const [argv, message] of cases) {
    const { io, lines } = captured();
    assert.is(await runCli(['train-head', ...argv], io), 2, argv.join(' '));
    assert.match(lines.join('\n'), message);
  }
});

test.run();
