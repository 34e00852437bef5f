// CLI commands for Keras models: classify (ImageNet top 5), predict (any model), inspect (like
// model.summary()) and validate (against reference .npy outputs, per output and per layer). Files and
// options are all checked, and outputs planned, before a model is loaded.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ModelFileError, UsageError } from '../errors.js';
import { compareArrays } from '../metrics.js';
import { GpuContext } from '../gpu/context.js';
import { paramCount } from '../graph/ir.js';
import type { Model } from '../graph/model.js';
import { planGraph } from '../graph/plan.js';
import { decodeImage, imageToArray, resizeImage, type Interpolation } from '../io/image.js';
import { loadKerasGraph } from '../io/keras.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { decodePredictions, preprocessInput, type PreprocessMode } from '../models/imagenet.js';
import type { ApplicationFamily } from '../models/keras-applications.js';
import { loadKerasModel, recognizeApplication } from '../models/keras-model.js';
import { parseCommand, type CommandSpec, type OptionTable, type Values } from './args.js';
import { checkInputFile } from './darknet-commands.js';
import { loadProgress, type CliIo } from './io.js';
import { npyOutput } from './output.js';
import { fmt, formatTable } from './table.js';

type Preprocess = PreprocessMode | 'none' | 'unit';

function preprocess(x: Float32Array, mode: Preprocess): Float32Array {
  if (mode === 'none') return x;
  if (mode === 'unit') return x.map((v) => v / 255);
  return preprocessInput(x, mode);
}

/** 'H,W,C' as positive integers (UsageError naming the option otherwise). */
export function parseShape(text: string | undefined, option = '--input-shape'): number[] | undefined {
  if (text === undefined) return undefined;
  const dims = text.split(/[,x×]/).map((d) => (/^\d+$/.test(d.trim()) ? Number(d) : NaN));
  if (!dims.length || dims.some((d) => !(d >= 1 && d <= 65536))) {
    throw new UsageError(`'${text}' is not a shape: give positive sizes separated by commas, e.g. 224,224,3`, option);
  }
  return dims;
}

const MODEL_OPTIONS = {
  model: {
    kind: 'string',
    short: 'm',
    placeholder: 'FILE',
    help: 'Keras model: .keras, .h5, or a weights-only application file',
  },
  'input-shape': { kind: 'string', placeholder: 'H,W,C', help: 'input shape for models whose input size is unknown' },
  interpolation: {
    kind: 'choice',
    choices: ['nearest', 'bilinear'],
    default: 'nearest',
    help: "image resizing (Keras's load_img default is nearest)",
  },
  f16: { kind: 'flag', help: 'store weights as f16 (half the memory; needs the adapter’s shader-f16)' },
  'max-pixels': { kind: 'number', min: 1, integer: true, default: 100_000_000, help: 'refuse images with more pixels' },
  'allow-bad-weights': {
    kind: 'flag',
    help: 'load weights holding NaN, ±Inf or negative variances (refused by default)',
  },
  quiet: { kind: 'flag', short: 'q', help: 'print results only' },
} as const satisfies OptionTable;

type ModelValues = Values<typeof MODEL_OPTIONS>;

/** An image file as the model's input: resized to its H×W, 1 or 3 channels, then preprocessed. */
async function imageInput(path: string, inputShape: number[], mode: Preprocess, v: ModelValues): Promise<Float32Array> {
  const [h, w, c] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3)) {
    throw new UsageError(
      `the model's input [${inputShape.join(', ')}] is not an image (H, W, 1 or 3); give a .npy input`,
    );
  }
  const img = resizeImage(
    await decodeImage(path, { maxPixels: v['max-pixels'] }),
    w,
    h,
    v.interpolation as Interpolation,
  );
  return preprocess(imageToArray(img, c as 1 | 3), mode);
}

/** An input file (.npy or an image) as a batch for the model. */
async function loadInput(
  path: string,
  model: Model,
  mode: Preprocess,
  v: ModelValues,
): Promise<{ x: Float32Array; batch: number }> {
  const shape = model.inputShapes[0];
  const per = shape.reduce((a, b) => a * b, 1);
  if (!path.toLowerCase().endsWith('.npy')) return { x: await imageInput(path, shape, mode, v), batch: 1 };
  const npy = await readNpy(path);
  const batch = npy.data.length / per;
  const dims = npy.shape.length === shape.length ? npy.shape : npy.shape.slice(1);
  if (!Number.isInteger(batch) || batch < 1 || dims.length !== shape.length || dims.some((d, i) => d !== shape[i])) {
    throw new ModelFileError(
      path,
      `shape (${npy.shape.join(', ')}) does not fit the model's input (N, ${shape.join(', ')})`,
    );
  }
  return { x: npy.data, batch };
}

/** Checks --model names an existing file (first, so its error comes before those about inputs). */
function checkModel(v: { model?: string }): string {
  if (!v.model) throw new UsageError('is required', '--model');
  checkInputFile(v.model);
  return v.model;
}

/** Loads the model (the file is read and checked before the device is touched), runs `fn`, frees it all. */
async function withModel<T>(
  v: ModelValues,
  keep: string[],
  io: CliIo,
  fn: (m: Model, family?: ApplicationFamily) => Promise<T>,
): Promise<T> {
  const file = checkModel(v);
  const inputShape = parseShape(v['input-shape']);
  const ctx = await GpuContext.shared();
  try {
    const { model, info } = await loadKerasModel(file, {
      ctx,
      inputShape,
      keep,
      f16Weights: v.f16,
      allowBadWeights: v['allow-bad-weights'],
      onProgress: loadProgress(io),
    });
    try {
      return await fn(model, info.family);
    } finally {
      model.dispose();
    }
  } finally {
    ctx.release();
  }
}

export const CLASSIFY = {
  name: 'classify',
  args: 'IMAGE [IMAGE …]',
  summary: "ImageNet top classes per image, as Keras's decode_predictions prints them.",
  details: "Images are resized to the model's input the way load_img does, preprocessed, and run in batches.",
  options: {
    ...MODEL_OPTIONS,
    top: { kind: 'number', integer: true, min: 1, max: 1000, default: 5, help: 'classes to print per image' },
    batch: { kind: 'number', integer: true, min: 1, max: 1024, default: 8, help: 'images per forward pass' },
    classes: {
      kind: 'string',
      placeholder: 'CLASSES.json',
      help: "class names of a model of one's own (a JSON list, as `codes` writes it); default ImageNet's",
    },
    preprocess: {
      kind: 'choice',
      choices: ['auto', 'caffe', 'tf', 'torch', 'none'],
      default: 'auto',
      help: "Keras's preprocess_input mode; auto: the model's keras.applications family's (else caffe)",
    },
  },
  positionals: { min: 1 },
} as const satisfies CommandSpec;

export async function classify(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(CLASSIFY, argv);
  io.quiet = values.quiet;
  checkModel(values);
  positionals.forEach(checkInputFile);
  const names = values.classes ? readClassNames(values.classes) : undefined;
  return withModel(values, [], io, async (model, family) => {
    const shape = model.inputShapes[0];
    const mode = values.preprocess !== 'auto' ? values.preprocess : (family?.preprocess ?? 'caffe');
    if (values.preprocess === 'auto' && !io.quiet) {
      io.err(
        family
          ? `${family.name} model: preprocess_input '${mode}'`
          : "not a keras.applications model: preprocess_input 'caffe' (--preprocess to choose)",
      );
    }
    if (names && model.outputShapes[0].join() !== String(names.length)) {
      throw new ModelFileError(
        values.classes!,
        `names ${names.length} classes; the model outputs [${model.outputShapes[0].join(', ')}]`,
      );
    }
    if (!names && model.outputShapes[0].join() !== '1000') {
      throw new UsageError(
        'classify needs an ImageNet model with 1000 classes (or --classes names.json); ' +
          `this one outputs [${model.outputShapes[0].join(', ')}] (use predict)`,
      );
    }
    const per = shape.reduce((a, b) => a * b, 1);
    for (let start = 0; start < positionals.length; start += values.batch) {
      const files = positionals.slice(start, start + values.batch);
      const x = new Float32Array(files.length * per);
      for (const [i, f] of files.entries()) x.set(await imageInput(f, shape, mode, values), i * per);
      const probs = await model.predict(x, files.length);
      if (names) {
        files.forEach((f, i) => {
          const p = probs.subarray(i * names.length, (i + 1) * names.length);
          const order = Array.from(p.keys())
            .sort((a, b) => p[b] - p[a])
            .slice(0, values.top);
          io.out(`${f}:`);
          io.out(
            formatTable(
              ['#', 'class', 'probability'],
              order.map((c, r) => [r + 1, names[c], p[c].toFixed(6)]),
            ),
          );
          io.out('');
        });
        continue;
      }
      const rows = decodePredictions(probs, values.top);
      files.forEach((f, i) => {
        io.out(`${f}:`);
        io.out(
          formatTable(
            ['#', 'wnid', 'label', 'probability'],
            rows[i].map((p, r) => [r + 1, p.wnid, p.label, p.probability.toFixed(6)]),
          ),
        );
        io.out('');
      });
    }
    return 0;
  });
}

/** A JSON list of class names (classes.json as `codes` writes it). */
function readClassNames(path: string): string[] {
  checkInputFile(path);
  let names: unknown;
  try {
    names = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelFileError(path, `is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(names) || !names.length || names.some((n) => typeof n !== 'string'))
    throw new ModelFileError(path, 'is not a JSON list of class names');
  return names as string[];
}

export const PREDICT = {
  name: 'predict',
  args: 'INPUT',
  summary: 'Run any Keras model on an image or a .npy batch; print the output and write it as .npy.',
  options: {
    ...MODEL_OPTIONS,
    preprocess: {
      kind: 'choice',
      choices: ['none', 'unit', 'caffe', 'tf', 'torch'],
      default: 'none',
      help: "images: 'unit' divides by 255, else preprocess_input",
    },
    out: {
      kind: 'string',
      short: 'o',
      placeholder: 'FILE.npy',
      help: 'write the output here (a directory: INPUT_NAME.npy inside it)',
    },
  },
  positionals: { min: 1, max: 1 },
} as const satisfies CommandSpec;

export async function predict(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(PREDICT, argv);
  io.quiet = values.quiet;
  checkModel(values);
  checkInputFile(positionals[0]);
  const out = values.out ? npyOutput(values.out, positionals[0]) : undefined;
  return withModel(values, [], io, async (model) => {
    const { x, batch } = await loadInput(positionals[0], model, values.preprocess, values);
    const r = await model.run(x, { batch });
    const [y, shape] = [r.outputs[0], r.shapes[0]];
    io.out(`output: [${shape.join(', ')}]`);
    const cols = shape[shape.length - 1];
    if (shape.length === 2) {
      for (let row = 0; row < shape[0]; row++) {
        const v = y.subarray(row * cols, (row + 1) * cols);
        const order = Array.from(v.keys())
          .sort((a, b) => v[b] - v[a])
          .slice(0, Math.min(5, cols));
        io.out(`  [${row}] top: ${order.map((i) => `${i} (${v[i].toPrecision(6)})`).join(', ')}`);
      }
    }
    if (out) {
      await writeNpy(out, y, shape);
      io.out(`wrote ${out}`);
    }
    return 0;
  });
}

export const INSPECT = {
  name: 'inspect',
  args: 'MODEL',
  summary: 'Layers, output shapes and parameter counts, like model.summary() (no GPU needed).',
  options: { 'input-shape': MODEL_OPTIONS['input-shape'] },
  positionals: { min: 1, max: 1 },
} as const satisfies CommandSpec;

export async function inspect(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(INSPECT, argv);
  const file = positionals[0];
  checkInputFile(file);
  const inputShape = parseShape(values['input-shape']);
  const { graph, weights, format, kerasVersion, spec } = await loadKerasGraph(file, {
    inputShape,
    recognize: recognizeApplication({ inputShape }),
  });
  // Shapes need no device: plan with generous limits, batch 1, and print the batch as None.
  const plan = planGraph(graph, 1, {
    maxWorkgroupsPerDimension: 2 ** 31,
    maxInvocationsPerWorkgroup: 1024,
    maxStorageBindingBytes: 2 ** 52,
  });
  const rows: (string | number)[][] = [];
  let total = 0;
  for (const layer of spec.layers) {
    const nodes = graph.nodes.filter((n) => (n.source?.layer ?? n.name) === layer.name);
    if (!nodes.length) continue;
    const params = nodes.reduce((s, n) => s + paramCount(weights.get(n.name)), 0);
    total += params;
    const shape = plan.shapes.get(layer.name) ?? plan.shapes.get(nodes[nodes.length - 1].name)!;
    rows.push([
      `${layer.name} (${layer.className})`,
      `(None, ${shape.slice(1).join(', ')})`,
      params.toLocaleString('en-US'),
    ]);
  }
  const recognized = format === 'h5-weights-only' ? `, recognised as Keras's ${spec.name} application` : '';
  const version = kerasVersion ? `, Keras ${kerasVersion}` : '';
  io.out(`Model: "${spec.name}"  (${basename(file)}: ${format}${version}${recognized})`);
  io.out(formatTable(['Layer (type)', 'Output Shape', 'Param #'], rows));
  io.out(`Total params: ${total.toLocaleString('en-US')} (${fmt((total * 4) / 2 ** 20)} MB)`);
  return 0;
}

interface ErrorRow {
  what: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
}

function compare(what: string, file: string, got: Float32Array, want: Float32Array, tol: number): ErrorRow {
  if (got.length !== want.length)
    throw new ModelFileError(file, `holds ${want.length} values; ${what} has ${got.length}`);
  const e = compareArrays(got, want);
  return { what, maxAbs: e.maxAbs, maxRel: e.relative, ok: e.relative <= tol };
}

export const VALIDATE = {
  name: 'validate',
  args: '',
  summary: 'Max abs and relative error per output and per layer against reference .npy files.',
  details: "Exits 1 when any relative error (to the reference's max abs) is over the tolerance.",
  options: {
    ...MODEL_OPTIONS,
    input: { kind: 'string', placeholder: 'X.npy', help: 'the input (.npy or an image)' },
    expected: { kind: 'string', placeholder: 'Y.npy', help: 'the reference output' },
    layers: { kind: 'string', placeholder: 'DIR', help: 'references per layer: DIR/<layer>.npy' },
    tol: { kind: 'number', min: 0, max: 1, default: 1e-4, help: 'relative tolerance' },
    preprocess: {
      kind: 'choice',
      choices: ['none', 'unit', 'caffe', 'tf', 'torch'],
      default: 'none',
      help: 'for an image input',
    },
  },
  positionals: { min: 0, max: 0 },
} as const satisfies CommandSpec;

export async function validate(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(VALIDATE, argv);
  io.quiet = values.quiet;
  checkModel(values);
  if (!values.input) throw new UsageError('is required', '--input');
  if (!values.expected && !values.layers) throw new UsageError('give --expected y.npy and/or --layers dir/');
  checkInputFile(values.input);
  if (values.expected) checkInputFile(values.expected);
  if (values.layers && !(existsSync(values.layers) && statSync(values.layers).isDirectory())) {
    throw new ModelFileError(values.layers, 'is not a directory');
  }
  const layerRefs = values.layers
    ? readdirSync(values.layers)
        .filter((f) => f.endsWith('.npy'))
        .map((f) => f.slice(0, -4))
        .sort()
    : [];
  if (values.layers && !layerRefs.length) throw new ModelFileError(values.layers, 'holds no .npy files');
  const expected = values.expected ? await readNpy(values.expected) : undefined;
  const references = await Promise.all(layerRefs.map((name) => readNpy(join(values.layers!, `${name}.npy`))));
  return withModel(values, layerRefs, io, async (model) => {
    const { x, batch } = await loadInput(values.input!, model, values.preprocess, values);
    const r = await model.run(x, { batch, intermediates: layerRefs });
    const rows: ErrorRow[] = [];
    if (expected)
      rows.push(compare(`output ${model.graph.outputs[0]}`, values.expected!, r.outputs[0], expected.data, values.tol));
    layerRefs.forEach((name, i) =>
      rows.push(
        compare(
          name,
          join(values.layers!, `${name}.npy`),
          r.intermediates.get(name)!.data,
          references[i].data,
          values.tol,
        ),
      ),
    );
    io.out(
      formatTable(
        ['output / layer', 'max abs err', 'max rel err', `≤ ${values.tol}`],
        rows.map((e) => [e.what, e.maxAbs.toExponential(3), e.maxRel.toExponential(3), e.ok ? 'ok' : 'FAIL']),
      ),
    );
    const failed = rows.filter((e) => !e.ok).length;
    io.out(failed ? `${failed} of ${rows.length} over tolerance` : `all ${rows.length} within tolerance`);
    return failed ? 1 : 0;
  });
}
