// CLI commands for transfer learning: `codes` (a base model's features for a folder of images, with
// labels from its class folders, as Keras's flow_from_directory reads them) and `train-head` (a dense
// head trained on the GPU on codes, or on images through a base in one go, saved for Keras as .keras
// or .h5, optionally with the base as one whole model). Every file and option is checked before the
// GPU is touched.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { ModelFileError, UsageError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { saveKerasModel, savedFormat } from '../io/keras-save.js';
import { readBytes } from '../io/source.js';
import { writeFileAtomic } from '../io/write.js';
import { writeNpy } from '../io/npy.js';
import { computeCodes, loadCodeBase, type CodeBase, type CodePreprocess } from '../train/codes.js';
import { fullModel, headModel } from '../train/export.js';
import type { HeadSpec } from '../train/head.js';
import { formatLabelNpy, parseLabelNpy, toTargets, type Targets } from '../train/labels.js';
import { trainHead, type EpochMetrics, type LabelledSet } from '../train/trainer.js';
import { lastBlock, trunkCodeLength, type Trunk } from '../train/trunk.js';
import { parseCommand, type CommandSpec, type OptionTable, type Values } from './args.js';
import { checkInputFile } from './darknet-commands.js';
import { startProgress, type CliIo } from './io.js';
import { checkWritableFile, npyOutput } from './output.js';
import { parseShape } from './keras-commands.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** The images of a directory: one folder per class (sorted, as flow_from_directory), or the files in it. */
export function listImages(dir: string, option = 'IMAGES'): { files: string[]; ids?: number[]; classes?: string[] } {
  if (!existsSync(dir)) throw new ModelFileError(dir, 'no such directory');
  if (!statSync(dir).isDirectory())
    throw new ModelFileError(dir, `is not a directory (${option} is a folder of images, or of class folders)`);
  const images = (d: string) =>
    readdirSync(d)
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(d, f));
  const classes = readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isDirectory())
    .sort();
  if (!classes.length) {
    const files = images(dir);
    if (!files.length) throw new ModelFileError(dir, 'holds no .png or .jpg images');
    return { files };
  }
  const files: string[] = [],
    ids: number[] = [];
  classes.forEach((c, i) => {
    const found = images(join(dir, c));
    files.push(...found);
    ids.push(...found.map(() => i));
  });
  if (!files.length)
    throw new ModelFileError(dir, `its class folders (${classes.join(', ')}) hold no .png or .jpg images`);
  return { files, ids, classes };
}

const CODE_OPTIONS = {
  layer: {
    kind: 'string',
    placeholder: 'NAME',
    help: "the layer whose output is the code (fc1, block5_pool, …; default the model's output)",
  },
  pooling: {
    kind: 'choice',
    choices: ['avg', 'max'],
    help: 'pool a 4-D code over height and width (else it is flattened)',
  },
  preprocess: {
    kind: 'choice',
    choices: ['caffe', 'tf', 'torch', 'unit', 'none'],
    default: 'caffe',
    help: "Keras's preprocess_input mode ('unit' divides by 255)",
  },
  interpolation: {
    kind: 'choice',
    choices: ['nearest', 'bilinear'],
    default: 'nearest',
    help: "image resizing (load_img's default is nearest)",
  },
  'input-shape': { kind: 'string', placeholder: 'H,W,C', help: 'input shape for bases whose input size is unknown' },
  'code-batch': {
    kind: 'number',
    integer: true,
    min: 1,
    max: 1024,
    default: 8,
    help: 'images per forward pass of the base',
  },
  'max-pixels': { kind: 'number', min: 1, integer: true, default: 100_000_000, help: 'refuse images with more pixels' },
} as const satisfies OptionTable;

type CodeValues = Values<typeof CODE_OPTIONS>;

async function codesFor(
  base: CodeBase,
  files: string[],
  v: CodeValues,
  io: CliIo,
  label: string,
): Promise<Float32Array> {
  const bar = startProgress(io, label, files.length, 'images');
  let last = 0;
  const codes = await computeCodes(base, files, {
    pooling: v.pooling,
    batch: v['code-batch'],
    preprocess: v.preprocess as CodePreprocess,
    interpolation: v.interpolation,
    maxPixels: v['max-pixels'],
    onBatch: (done) => {
      bar.tick(done - last);
      last = done;
    },
  });
  bar.done();
  return codes;
}

export const CODES = {
  name: 'codes',
  args: 'IMAGES_DIR',
  summary: "A base model's codes (one layer's output, optionally pooled) for a folder of images, as .npy.",
  details:
    "With one folder per class in IMAGES_DIR (as Keras's flow_from_directory reads it), also writes the labels " +
    '(int64 class ids) and classes.json.',
  options: {
    model: {
      kind: 'string',
      short: 'm',
      placeholder: 'FILE',
      help: 'the base: .keras, .h5, or a weights-only application file (VGG16)',
    },
    ...CODE_OPTIONS,
    out: { kind: 'string', short: 'o', placeholder: 'CODES.npy', help: 'where the codes go' },
    'labels-out': {
      kind: 'string',
      placeholder: 'LABELS.npy',
      help: 'where the labels go (default labels.npy beside --out)',
    },
    'classes-out': {
      kind: 'string',
      placeholder: 'CLASSES.json',
      help: 'where the class names go (default classes.json beside --out)',
    },
    quiet: { kind: 'flag', short: 'q', help: 'print results only' },
  },
  positionals: { min: 1, max: 1 },
} as const satisfies CommandSpec;

export async function codesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(CODES, argv);
  io.quiet = v.quiet;
  if (!v.model) throw new UsageError('is required', '--model');
  if (!v.out) throw new UsageError('is required', '--out');
  checkInputFile(v.model);
  const listed = listImages(positionals[0]);
  const out = npyOutput(v.out, positionals[0]);
  const labelsOut = listed.ids
    ? npyOutput(v['labels-out'] ?? join(dirname(out), 'labels.npy'), positionals[0])
    : undefined;
  const classesOut = listed.classes ? (v['classes-out'] ?? join(dirname(out), 'classes.json')) : undefined;
  if (classesOut) checkWritableFile(classesOut);
  const ctx = await GpuContext.shared();
  try {
    const base = await loadCodeBase(ctx, v.model, v.layer, parseShape(v['input-shape']));
    try {
      const codes = await codesFor(base, listed.files, v, io, 'codes');
      const length = codes.length / listed.files.length;
      await writeNpy(out, codes, [listed.files.length, length]);
      io.out(
        `${listed.files.length} codes of ${length} values ` +
          `(${base.layer}${v.pooling ? `, ${v.pooling} pooled` : ''}) → ${out}`,
      );
      if (labelsOut && listed.ids) {
        await writeFileAtomic(labelsOut, formatLabelNpy(listed.ids));
        await writeFileAtomic(classesOut!, new TextEncoder().encode(JSON.stringify(listed.classes)));
        io.out(`${listed.classes!.length} classes (${listed.classes!.join(', ')}) → ${labelsOut}, ${classesOut}`);
      }
    } finally {
      base.dispose();
    }
  } finally {
    ctx.release();
  }
  return 0;
}

/** '256', '512,128', or '0' / '' for no hidden layer. */
function parseHidden(text: string): number[] {
  if (text.trim() === '0' || text.trim() === '') return [];
  const sizes = text.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  if (sizes.some((s) => !(s >= 1 && s <= 65536)))
    throw new UsageError(`'${text}' is not a list of layer sizes (e.g. 256 or 512,128; 0 for none)`, '--hidden');
  return sizes;
}

export const TRAIN_HEAD = {
  name: 'train-head',
  args: '',
  summary: 'Train a dense classifier head on codes (or on images through a base) on the GPU; save it for Keras.',
  details:
    'Dense+ReLU layers with dropout, then softmax (or sigmoid) with cross-entropy; mini-batches, seeded; ' +
    'early stopping on validation loss keeps the best epoch. --out head.keras|.h5; with --base, --full-out ' +
    'writes base + head as one model.',
  options: {
    features: { kind: 'string', placeholder: 'X.npy', help: 'training codes, N×D' },
    labels: { kind: 'string', placeholder: 'Y.npy', help: 'class ids (N) or one-hot rows (N×C)' },
    'val-features': { kind: 'string', placeholder: 'X.npy', help: 'validation codes' },
    'val-labels': { kind: 'string', placeholder: 'Y.npy', help: 'validation labels' },
    images: {
      kind: 'string',
      placeholder: 'DIR',
      help: 'train on images instead: one folder per class (needs --base)',
    },
    'val-images': { kind: 'string', placeholder: 'DIR', help: 'validation images, the same class folders' },
    base: { kind: 'string', placeholder: 'FILE', help: 'the base model that computes codes for --images' },
    'fine-tune': {
      kind: 'flag',
      help: "also train the base's last block (the convolutions up to --layer) with the head; with --images",
    },
    ...CODE_OPTIONS,
    hidden: { kind: 'string', default: '256', placeholder: 'N[,N…]', help: 'hidden layer sizes (0 for none)' },
    dropout: { kind: 'number', min: 0, max: 0.99, default: 0.5, help: 'dropout rate after each hidden layer' },
    output: {
      kind: 'choice',
      choices: ['softmax', 'sigmoid'],
      default: 'softmax',
      help: 'softmax: one class per row; sigmoid: independent labels',
    },
    epochs: { kind: 'number', integer: true, min: 1, max: 100000, default: 50, help: 'epochs at most' },
    batch: { kind: 'number', integer: true, min: 1, max: 65536, default: 32, help: 'rows per mini-batch' },
    optimizer: {
      kind: 'choice',
      choices: ['adam', 'sgd', 'rmsprop'],
      default: 'adam',
      help: "Keras 3's formulas and defaults",
    },
    lr: { kind: 'number', min: 1e-9, max: 10, help: "learning rate (default Keras's: 0.001, SGD 0.01)" },
    momentum: { kind: 'number', min: 0, max: 0.999, default: 0, help: 'SGD momentum' },
    nesterov: { kind: 'flag', help: 'SGD with Nesterov momentum' },
    patience: {
      kind: 'number',
      integer: true,
      min: 1,
      max: 100000,
      default: 10,
      help: 'stop after this many epochs without a lower validation loss',
    },
    seed: {
      kind: 'number',
      integer: true,
      min: 0,
      max: 2 ** 31 - 1,
      default: 1,
      help: 'seeds the weights, the shuffles and the dropout',
    },
    out: { kind: 'string', short: 'o', placeholder: 'HEAD.keras', help: 'the trained head: .keras or .h5' },
    'full-out': {
      kind: 'string',
      placeholder: 'MODEL.keras',
      help: 'with --base: base + head as one model, .keras or .h5',
    },
    history: { kind: 'string', placeholder: 'FILE.json', help: 'write the per-epoch metrics as JSON' },
    quiet: { kind: 'flag', short: 'q', help: 'print results only' },
  },
  positionals: { min: 0, max: 0 },
} as const satisfies CommandSpec;

async function readLabels(path: string, classes?: number, multiLabel = false): Promise<Targets> {
  return toTargets(parseLabelNpy(await readBytes(path, path), path), classes, path, multiLabel);
}

async function readFeatures(path: string): Promise<{ data: Float32Array; rows: number; length: number }> {
  const npy = parseLabelNpy(await readBytes(path, path), path);
  if (npy.shape.length !== 2) throw new ModelFileError(path, `shape (${npy.shape.join(', ')}) is not codes (N, D)`);
  return { data: npy.data, rows: npy.shape[0], length: npy.shape[1] };
}

function checkPair(features: { rows: number }, targets: Targets, what: string): void {
  if (features.rows !== targets.rows)
    throw new UsageError(`${what}: ${features.rows} rows of codes but ${targets.rows} labels`);
}

const epochLine = (m: EpochMetrics, epochs: number) =>
  `epoch ${m.epoch}/${epochs}: loss ${m.loss.toFixed(4)} · accuracy ${m.accuracy.toFixed(4)}` +
  (m.valLoss !== undefined ? ` · val_loss ${m.valLoss.toFixed(4)} · val_accuracy ${m.valAccuracy!.toFixed(4)}` : '') +
  ` · ${m.ms.toFixed(0)} ms (${((m.steps * 1000) / m.ms).toFixed(0)} steps/s)`;

export async function trainHeadCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommand(TRAIN_HEAD, argv);
  io.quiet = v.quiet;
  if (!v.out) throw new UsageError('is required', '--out');
  const format = savedFormat(v.out);
  checkWritableFile(v.out);
  const fullFormat = v['full-out'] ? savedFormat(v['full-out'], '--full-out') : undefined;
  if (v['full-out']) {
    if (!v.base) throw new UsageError('needs --base (the model the head goes on)', '--full-out');
    checkWritableFile(v['full-out']);
  }
  if (v.history) {
    if (extname(v.history).toLowerCase() !== '.json')
      throw new UsageError(`'${v.history}' must end in .json`, '--history');
    checkWritableFile(v.history);
  }
  const fromImages = !!v.images;
  if (fromImages === !!v.features) throw new UsageError('give either --features and --labels, or --images and --base');
  if (fromImages && !v.base) throw new UsageError('needs --base (the model that computes the codes)', '--images');
  if (!fromImages && !v.labels) throw new UsageError('is required with --features', '--labels');
  if (v['fine-tune'] && !fromImages)
    throw new UsageError('needs --images and --base (the block trains on images)', '--fine-tune');
  if (!!v['val-features'] !== !!v['val-labels']) throw new UsageError('--val-features and --val-labels go together');
  if (v.base) checkInputFile(v.base);
  for (const f of [v.features, v.labels, v['val-features'], v['val-labels']]) if (f) checkInputFile(f);
  const hidden = parseHidden(v.hidden);
  const multi = v.output === 'sigmoid';

  const ctx = await GpuContext.shared();
  let base: CodeBase | undefined, frozen: CodeBase | undefined;
  let trunk: Trunk | undefined;
  try {
    let train: LabelledSet,
      val: LabelledSet | undefined,
      classes: number,
      length: number,
      classNames: string[] | undefined;
    if (fromImages) {
      const listed = listImages(v.images!, '--images');
      if (!listed.ids) throw new ModelFileError(v.images!, 'needs one folder per class');
      const valListed = v['val-images'] ? listImages(v['val-images'], '--val-images') : undefined;
      if (valListed && valListed.classes?.join() !== listed.classes!.join()) {
        throw new ModelFileError(
          v['val-images']!,
          `its class folders (${valListed.classes?.join(', ')}) are not those of --images ` +
            `(${listed.classes!.join(', ')})`,
        );
      }
      base = await loadCodeBase(ctx, v.base!, v.layer, parseShape(v['input-shape']));
      let source = base;
      if (v['fine-tune']) {
        // The frozen part's output is computed once; the last block trains with the head on it.
        const block = lastBlock(base.loaded.spec, base.loaded.weights, base.layer, [0, 0, 0], v.pooling ?? 'flatten');
        frozen = await loadCodeBase(ctx, v.base!, block.frozen, parseShape(v['input-shape']));
        trunk = { ...block.trunk, input: frozen.layerShape as [number, number, number] };
        source = frozen;
        if (!io.quiet) io.err(`fine-tuning ${trunk.layers.map((l) => l.name).join(', ')} on ${block.frozen}'s output`);
      }
      const mapsOrCodes = { ...v, pooling: trunk ? undefined : v.pooling };
      const codes = await codesFor(source, listed.files, mapsOrCodes, io, trunk ? 'frozen features' : 'codes');
      classes = listed.classes!.length;
      classNames = listed.classes;
      length = trunk ? trunkCodeLength(trunk) : codes.length / listed.files.length;
      const targets = toTargets(
        { shape: [listed.ids.length], data: Float32Array.from(listed.ids), dtype: '<f4' },
        classes,
      );
      train = { features: codes, targets: targets.targets, rows: targets.rows };
      if (valListed) {
        const vcodes = await codesFor(source, valListed.files, mapsOrCodes, io, 'validation codes');
        const vt = toTargets(
          { shape: [valListed.ids!.length], data: Float32Array.from(valListed.ids!), dtype: '<f4' },
          classes,
        );
        val = { features: vcodes, targets: vt.targets, rows: vt.rows };
      }
    } else {
      const x = await readFeatures(v.features!);
      const t = await readLabels(v.labels!, undefined, multi);
      checkPair(x, t, v.features!);
      classes = t.classes;
      length = x.length;
      train = { features: x.data, targets: t.targets, rows: x.rows };
      if (v['val-features']) {
        const vx = await readFeatures(v['val-features']);
        if (vx.length !== x.length)
          throw new ModelFileError(
            v['val-features'],
            `codes of ${vx.length} values; the training codes have ${x.length}`,
          );
        const vt = await readLabels(v['val-labels']!, classes, multi);
        checkPair(vx, vt, v['val-features']);
        val = { features: vx.data, targets: vt.targets, rows: vx.rows };
      }
      if (v.base) base = await loadCodeBase(ctx, v.base, v.layer, parseShape(v['input-shape']));
    }
    const spec: HeadSpec = {
      inputs: length,
      hidden,
      dropout: hidden.length ? v.dropout : 0,
      classes,
      output: v.output,
    };
    if (!io.quiet) {
      const rows = `${train.rows} rows${val ? ` (validation ${val.rows})` : ''}`;
      const names = classNames ? `; classes ${classNames.join(', ')}` : '';
      io.err(
        `training a ${[length, ...hidden, classes].join('→')} head on ${rows}: ` +
          `${v.optimizer}, batch ${v.batch}, ${v.epochs} epochs at most, seed ${v.seed}${names}`,
      );
    }
    const bar = startProgress(io, 'training', v.epochs, 'epochs');
    const result = await trainHead(ctx, train, {
      spec,
      epochs: v.epochs,
      batchSize: v.batch,
      seed: v.seed,
      validation: val,
      trunk,
      patience: val ? v.patience : undefined,
      optimizer: { kind: v.optimizer, learningRate: v.lr, momentum: v.momentum, nesterov: v.nesterov },
      onEpoch: (m) => {
        if (io.tty)
          bar.tick(
            1,
            `loss ${m.loss.toFixed(4)}${m.valLoss !== undefined ? ` · val_loss ${m.valLoss.toFixed(4)}` : ''}`,
          );
        else if (!io.quiet) io.err(epochLine(m, v.epochs));
      },
    });
    bar.done();
    const best = result.history[result.bestEpoch - 1];
    io.out(
      `${result.stoppedEarly ? 'stopped early; ' : ''}kept epoch ${result.bestEpoch} of ${result.history.length}: ` +
        epochLine(best, v.epochs)
          .replace(/^epoch \S+: /, '')
          .replace(/ · \d+ ms.*$/, ''),
    );
    io.out(`speed: ${result.stepsPerSecond.toFixed(0)} steps/s, ${result.msPerEpoch.toFixed(1)} ms per epoch (median)`);
    await writeFileAtomic(v.out, await saveKerasModel(headModel(spec, result.weights), format));
    io.out(`wrote ${v.out}`);
    if (v['full-out'] && base) {
      const whole = fullModel(
        { spec: base.loaded.spec, graph: base.loaded.graph, weights: base.loaded.weights },
        base.layer,
        v.pooling,
        spec,
        result.weights,
        trunk && new Map(trunk.layers.filter((l) => l.kind === 'conv').map((l, i) => [l.name, result.trunk![i]])),
      );
      await writeFileAtomic(v['full-out'], await saveKerasModel(whole, fullFormat!));
      io.out(`wrote ${v['full-out']} (${base.layer}${v.pooling ? ` + ${v.pooling} pooling` : ''} + head)`);
    }
    if (v.history) {
      const doc = {
        spec,
        bestEpoch: result.bestEpoch,
        stoppedEarly: result.stoppedEarly,
        stepsPerSecond: result.stepsPerSecond,
        msPerEpoch: result.msPerEpoch,
        history: result.history,
      };
      await writeFileAtomic(v.history, new TextEncoder().encode(JSON.stringify(doc, null, 1)));
    }
    return 0;
  } finally {
    base?.dispose();
    frozen?.dispose();
    ctx.release();
  }
}
