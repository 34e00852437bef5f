// Writing Keras files: a Sequential model as Keras 3's `.keras` (a zip of config.json, metadata.json
// and model.weights.h5 with /layers/<key>/vars/<i>) and as the legacy `.h5` of model.save('x.h5')
// (root model_config, /model_weights/<layer>/<model>/<layer>/<weight>), each in exactly the layout
// Keras 3.15 writes (checked by loading them in real Keras: scripts/keras-fixtures/train_check.py),
// so keras.models.load_model reads them and so does loadKerasGraph. HDF5 is written with h5wasm, to
// a temporary file in Node and to its in-memory file system in a browser; zips with fflate.
import { UsageError } from '../errors.js';
import { isNode } from './source.js';
import { toSnakeCase } from './keras.js';

/** One array of a layer, in Keras's order and layout (kernel [in, out] / HWIO, then bias). */
export interface SavedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A layer of a Sequential model: its class, its config (without the name) and its weights. */
export interface SavedLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  weights: SavedWeight[];
  /** The layer's input shape without the batch (Keras's build_config). */
  inputShape: number[];
}

export interface SequentialModel {
  name: string;
  /** Without the batch. */
  inputShape: number[];
  layers: SavedLayer[];
}

/** The version whose layout these files follow (Keras reads it from metadata.json and the .h5 root). */
export const SAVED_KERAS_VERSION = '3.15.1';

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const batched = (shape: number[]) => [null, ...shape];

function checkModel(model: SequentialModel): void {
  const names = new Set<string>();
  for (const l of model.layers) {
    if (names.has(l.name)) throw new UsageError(`two layers are named '${l.name}'`);
    names.add(l.name);
  }
}

function layerConfig(l: SavedLayer): Record<string, unknown> {
  return { name: l.name, trainable: true, dtype: DTYPE, ...l.config };
}

/** config.json of a `.keras` archive (Keras 3's serialize_keras_object of the Sequential). */
export function kerasConfig(model: SequentialModel): Record<string, unknown> {
  checkModel(model);
  const input = {
    module: 'keras.layers',
    class_name: 'InputLayer',
    registered_name: null,
    config: {
      batch_shape: batched(model.inputShape),
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: 'input_layer',
      optional: false,
    },
  };
  const layers = model.layers.map((l) => ({
    module: 'keras.layers',
    class_name: l.className,
    config: layerConfig(l),
    registered_name: null,
    ...(l.weights.length ? { build_config: { input_shape: batched(l.inputShape) } } : {}),
  }));
  return {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: model.name,
      trainable: true,
      dtype: DTYPE,
      layers: [input, ...layers],
      build_input_shape: batched(model.inputShape),
    },
    build_config: { input_shape: batched(model.inputShape) },
    compile_config: null,
  };
}

/** model_config of a legacy `.h5` (the same model, in the module-less form Keras writes there). */
export function legacyModelConfig(model: SequentialModel): Record<string, unknown> {
  checkModel(model);
  const input = {
    class_name: 'InputLayer',
    config: {
      batch_shape: batched(model.inputShape),
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: 'input_layer',
      optional: false,
    },
  };
  const layers = model.layers.map((l) => ({ class_name: l.className, config: layerConfig(l) }));
  return {
    class_name: 'Sequential',
    config: {
      name: model.name,
      trainable: true,
      dtype: DTYPE,
      layers: [input, ...layers],
      build_input_shape: batched(model.inputShape),
    },
  };
}

type H5 = typeof import('h5wasm');

async function h5wasm(): Promise<{ lib: H5; fs?: { readFile(path: string): Uint8Array; unlink(path: string): void } }> {
  const mod = (isNode ? await import('h5wasm/node') : await import('h5wasm')) as unknown as { default: H5 };
  const module = await mod.default.ready;
  return {
    lib: mod.default,
    fs: isNode
      ? undefined
      : (module as unknown as { FS: { readFile(p: string): Uint8Array; unlink(p: string): void } }).FS,
  };
}

let written = 0;

/** Writes an HDF5 file with `fill` and returns its bytes (through a temporary file, removed after). */
async function writeHdf5(fill: (f: import('h5wasm').File) => void): Promise<Uint8Array> {
  const { lib, fs } = await h5wasm();
  if (fs) {
    const path = `/webgpu-cnn-save-${++written}.h5`;
    const f = new lib.File(path, 'w');
    try {
      fill(f);
    } finally {
      f.close();
    }
    const bytes = fs.readFile(path);
    fs.unlink(path);
    return bytes;
  }
  const [nodeFs, os, pathMod] = await Promise.all([
    import(/* @vite-ignore */ 'node:fs'),
    import(/* @vite-ignore */ 'node:os'),
    import(/* @vite-ignore */ 'node:path'),
  ]);
  const dir = nodeFs.mkdtempSync(pathMod.join(os.tmpdir(), 'webgpu-cnn-save-'));
  try {
    const path = pathMod.join(dir, 'model.h5');
    const f = new lib.File(path, 'w');
    try {
      fill(f);
    } finally {
      f.close();
    }
    return new Uint8Array(nodeFs.readFileSync(path));
  } finally {
    nodeFs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A list of strings as h5py writes it (variable-length), or an empty float64 array for none, as h5py does. */
function stringList(g: import('h5wasm').Group, name: string, list: string[]): void {
  if (list.length) g.create_attribute(name, list, [list.length]);
  else g.create_attribute(name, new Float64Array(0), [0]);
}

/** The keys Keras 3 gives a Sequential's layers in model.weights.h5: snake_case class names, numbered in order. */
export function kerasWeightKeys(model: SequentialModel): string[] {
  const used = new Map<string, number>();
  return model.layers.map((l) => {
    const base = toSnakeCase(l.className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

/** model.weights.h5 of a `.keras` archive. */
export function kerasWeightsH5(model: SequentialModel): Promise<Uint8Array> {
  const keys = kerasWeightKeys(model);
  return writeHdf5((f) => {
    const root = f.create_group('layers');
    model.layers.forEach((l, i) => {
      const vars = root.create_group(keys[i]).create_group('vars');
      vars.create_attribute('name', l.name);
      l.weights.forEach((w, j) => vars.create_dataset({ name: String(j), data: w.data, shape: w.shape, dtype: '<f' }));
    });
    f.create_group('vars').create_attribute('name', model.name);
  });
}

/** A Keras 3 `.keras` archive of the model. */
export async function saveKerasArchive(model: SequentialModel, date = new Date()): Promise<Uint8Array> {
  const { zipSync, strToU8 } = await import('fflate');
  const stamp = `${date.toISOString().slice(0, 10)}@${date.toISOString().slice(11, 19)}`;
  const weights = await kerasWeightsH5(model);
  return zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: SAVED_KERAS_VERSION, date_saved: stamp })),
    'config.json': strToU8(JSON.stringify(kerasConfig(model))),
    'model.weights.h5': [weights, { level: 0 }],
  });
}

/** A legacy `.h5` of the model, as Keras 3's model.save('x.h5') writes it. */
export function saveKerasH5(model: SequentialModel): Promise<Uint8Array> {
  return writeHdf5((f) => {
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', SAVED_KERAS_VERSION);
    f.create_attribute('model_config', JSON.stringify(legacyModelConfig(model)));
    const mw = f.create_group('model_weights');
    mw.create_attribute('backend', 'tensorflow');
    mw.create_attribute('keras_version', SAVED_KERAS_VERSION);
    stringList(
      mw,
      'layer_names',
      model.layers.map((l) => l.name),
    );
    for (const l of model.layers) {
      const g = mw.create_group(l.name);
      const paths = l.weights.map((w) => `${model.name}/${l.name}/${w.name}`);
      stringList(g, 'weight_names', paths);
      if (!l.weights.length) continue;
      const inner = g.create_group(model.name).create_group(l.name);
      for (const w of l.weights) inner.create_dataset({ name: w.name, data: w.data, shape: w.shape, dtype: '<f' });
    }
    stringList(mw.create_group('top_level_model_weights'), 'weight_names', []);
  });
}

/** The format a path's extension asks for: `.keras` or `.h5` (UsageError otherwise). */
export function savedFormat(path: string, option = '--out'): 'keras' | 'h5' {
  const lower = path.toLowerCase();
  if (lower.endsWith('.keras')) return 'keras';
  if (lower.endsWith('.h5')) return 'h5';
  throw new UsageError(`'${path}' must end in .keras (Keras 3's format) or .h5 (the legacy one)`, option);
}

/** The model as the bytes of `format`. */
export function saveKerasModel(model: SequentialModel, format: 'keras' | 'h5'): Promise<Uint8Array> {
  return format === 'keras' ? saveKerasArchive(model) : saveKerasH5(model);
}
