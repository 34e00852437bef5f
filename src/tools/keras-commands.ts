// CLI commands for Keras models: classify (ImageNet top 5), predict (any model), inspect (like
// model.summary()) and validate (against reference .npy outputs, per output and per layer).
import { parseArgs } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GpuContext } from '../gpu/context.js';
import { paramCount } from '../graph/ir.js';
import type { Model } from '../graph/model.js';
import { planGraph } from '../graph/plan.js';
import { decodeImage, imageToArray, resizeImage, type Interpolation } from '../io/image.js';
import { loadKerasGraph } from '../io/keras.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { decodePredictions, preprocessInput, type PreprocessMode } from '../models/imagenet.js';
import { loadKerasModel } from '../models/keras-model.js';
import { fmt, formatTable } from './table.js';

type Preprocess = PreprocessMode | 'none' | 'unit';

function preprocess(x: Float32Array, mode: Preprocess): Float32Array {
  if (mode === 'none') return x;
  if (mode === 'unit') return x.map((v) => v / 255);
  return preprocessInput(x, mode);
}

function parseShape(text: string | undefined): number[] | undefined {
  return text?.split(/[,x×]/).map((d) => Number.parseInt(d, 10));
}

/** An image file as the model's input: resized to its H×W, 1 or 3 channels, then preprocessed. */
async function imageInput(path: string, inputShape: number[], mode: Preprocess, interpolation: Interpolation): Promise<Float32Array> {
  const [h, w, c] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3)) {
    throw new Error(`the model's input [${inputShape.join(', ')}] is not an image (H, W, 1 or 3); give a .npy input`);
  }
  const img = resizeImage(await decodeImage(path), w, h, interpolation);
  return preprocess(imageToArray(img, c as 1 | 3), mode);
}

/** An input file (.npy or an image) as a batch for the model. */
async function loadInput(path: string, model: Model, mode: Preprocess, interpolation: Interpolation): Promise<{ x: Float32Array; batch: number }> {
  const shape = model.inputShapes[0];
  const per = shape.reduce((a, b) => a * b, 1);
  if (!path.endsWith('.npy')) return { x: await imageInput(path, shape, mode, interpolation), batch: 1 };
  const npy = await readNpy(path);
  const batch = npy.data.length / per;
  const dims = npy.shape.length === shape.length ? npy.shape : npy.shape.slice(1);
  if (!Number.isInteger(batch) || batch < 1 || dims.some((d, i) => d !== shape[i])) {
    throw new Error(`${path}: shape (${npy.shape.join(', ')}) does not fit the model's input (N, ${shape.join(', ')})`);
  }
  return { x: npy.data, batch };
}

const MODEL_OPTIONS = {
  model: { type: 'string', short: 'm' },
  preprocess: { type: 'string' },
  interpolation: { type: 'string', default: 'nearest' },
  'input-shape': { type: 'string' },
  f16: { type: 'boolean', default: false },
} as const;

async function withModel<T>(
  values: { model?: string; 'input-shape'?: string; f16?: boolean }, keep: string[], fn: (m: Model) => Promise<T>,
): Promise<T> {
  if (!values.model) throw new Error('--model is required');
  const ctx = await GpuContext.create();
  try {
    const { model } = await loadKerasModel(ctx, values.model, { inputShape: parseShape(values['input-shape']), keep, f16Weights: values.f16 });
    try {
      return await fn(model);
    } finally {
      model.dispose();
    }
  } finally {
    ctx.dispose();
  }
}

export async function classify(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { ...MODEL_OPTIONS, top: { type: 'string', default: '5' }, batch: { type: 'string', default: '8' } },
  });
  if (!positionals.length) throw new Error('classify: give one or more image files');
  const top = Number(values.top);
  const batchSize = Math.max(1, Number(values.batch));
  return withModel(values, [], async (model) => {
    const shape = model.inputShapes[0];
    if (model.outputShapes[0].join() !== '1000') {
      throw new Error(`classify needs an ImageNet model with 1000 classes; this one outputs [${model.outputShapes[0].join(', ')}] (use predict)`);
    }
    const mode = (values.preprocess ?? 'caffe') as Preprocess;
    const per = shape.reduce((a, b) => a * b, 1);
    for (let start = 0; start < positionals.length; start += batchSize) {
      const files = positionals.slice(start, start + batchSize);
      const x = new Float32Array(files.length * per);
      for (const [i, f] of files.entries()) x.set(await imageInput(f, shape, mode, values.interpolation as Interpolation), i * per);
      const rows = decodePredictions(await model.predict(x, files.length), top);
      files.forEach((f, i) => {
        console.log(`${f}:`);
        console.log(formatTable(['#', 'wnid', 'label', 'probability'], rows[i].map((p, r) => [r + 1, p.wnid, p.label, p.probability.toFixed(6)])));
        console.log('');
      });
    }
    return 0;
  });
}

export async function predict(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, options: { ...MODEL_OPTIONS, out: { type: 'string', short: 'o' } },
  });
  if (positionals.length !== 1) throw new Error('predict: give one input (.npy or an image)');
  return withModel(values, [], async (model) => {
    const { x, batch } = await loadInput(positionals[0], model, (values.preprocess ?? 'none') as Preprocess, values.interpolation as Interpolation);
    const r = await model.run(x, { batch });
    const [y, shape] = [r.outputs[0], r.shapes[0]];
    console.log(`output: [${shape.join(', ')}]`);
    const cols = shape[shape.length - 1];
    if (shape.length === 2) {
      for (let row = 0; row < shape[0]; row++) {
        const v = y.subarray(row * cols, (row + 1) * cols);
        const order = Array.from(v.keys()).sort((a, b) => v[b] - v[a]).slice(0, Math.min(5, cols));
        console.log(`  [${row}] top: ${order.map((i) => `${i} (${v[i].toPrecision(6)})`).join(', ')}`);
      }
    }
    if (values.out) {
      await writeNpy(values.out, y, shape);
      console.log(`wrote ${values.out}`);
    }
    return 0;
  });
}

export async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'input-shape': { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('inspect: give a model file');
  const { graph, format, kerasVersion, spec } = await loadKerasGraph(file, { inputShape: parseShape(values['input-shape']) });
  // Shapes need no device: plan with generous limits, batch 1, and print the batch as None.
  const plan = planGraph(graph, 1, { maxWorkgroupsPerDimension: 2 ** 31, maxInvocationsPerWorkgroup: 1024, maxStorageBindingBytes: 2 ** 52 });
  const rows: (string | number)[][] = [];
  let total = 0;
  for (const layer of spec.layers) {
    const nodes = graph.nodes.filter((n) => (n.source?.layer ?? n.name) === layer.name);
    if (!nodes.length) continue;
    const params = nodes.reduce((s, n) => s + paramCount(n.op), 0);
    total += params;
    const shape = plan.shapes.get(layer.name) ?? plan.shapes.get(nodes[nodes.length - 1].name)!;
    rows.push([`${layer.name} (${layer.className})`, `(None, ${shape.slice(1).join(', ')})`, params.toLocaleString('en-US')]);
  }
  console.log(`Model: "${spec.name}"  (${basename(file)}: ${format}${kerasVersion ? `, Keras ${kerasVersion}` : ''})`);
  console.log(formatTable(['Layer (type)', 'Output Shape', 'Param #'], rows));
  console.log(`Total params: ${total.toLocaleString('en-US')} (${fmt((total * 4) / 2 ** 20)} MB)`);
  return 0;
}

interface ErrorRow {
  what: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
}

function compare(what: string, got: Float32Array, want: Float32Array, tol: number): ErrorRow {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values computed, reference has ${want.length}`);
  let maxAbs = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxAbs)) maxAbs = d;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  const maxRel = maxAbs / (scale || 1);
  return { what, maxAbs, maxRel, ok: maxRel <= tol };
}

export async function validate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...MODEL_OPTIONS, input: { type: 'string' }, expected: { type: 'string' }, layers: { type: 'string' }, tol: { type: 'string', default: '1e-4' },
    },
  });
  if (!values.input || (!values.expected && !values.layers)) throw new Error('validate: give --input x.npy and --expected y.npy and/or --layers dir/');
  const tol = Number(values.tol);
  const layerRefs = values.layers ? readdirSync(values.layers).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort() : [];
  if (values.layers && !layerRefs.length) throw new Error(`${values.layers}: no .npy files`);
  return withModel(values, layerRefs, async (model) => {
    const { x, batch } = await loadInput(values.input!, model, (values.preprocess ?? 'none') as Preprocess, values.interpolation as Interpolation);
    const r = await model.run(x, { batch, intermediates: layerRefs });
    const rows: ErrorRow[] = [];
    if (values.expected) rows.push(compare(`output ${model.graph.outputs[0]}`, r.outputs[0], (await readNpy(values.expected)).data, tol));
    for (const name of layerRefs) {
      const file = join(values.layers!, `${name}.npy`);
      if (!existsSync(file)) continue;
      rows.push(compare(name, r.intermediates.get(name)!.data, (await readNpy(file)).data, tol));
    }
    console.log(formatTable(['output / layer', 'max abs err', 'max rel err', `≤ ${tol}`], rows.map((e) => [e.what, e.maxAbs.toExponential(3), e.maxRel.toExponential(3), e.ok ? 'ok' : 'FAIL'])));
    const failed = rows.filter((e) => !e.ok).length;
    console.log(failed ? `${failed} of ${rows.length} over tolerance` : `all ${rows.length} within tolerance`);
    return failed ? 1 : 0;
  });
}
