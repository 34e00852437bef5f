// Keras model files → Graph. Recognises, by content rather than by extension:
//  - Keras 3 `.keras` (a zip of config.json + model.weights.h5);
//  - full-model `.h5` from model.save() (root attribute model_config, weights under /model_weights);
//  - weights-only legacy `.h5` (root layer_names) and Keras 3 `.weights.h5` (/layers/<key>/vars/<i>),
//    which need the architecture from elsewhere (`architecture`, e.g. the VGG16 builder).
// Every layer is checked as supported before any weight is read, and the weights are checked against
// the shapes their layers imply.
import type { Graph, GraphWeights, Node, WeightedGraph } from '../graph/ir.js';
import type { NodeWeights } from '../ops/lowering.js';
import type { OnLoadProgress } from '../progress.js';
import { ModelFileError } from './errors.js';
import { Hdf5File, type Float32Dataset } from './hdf5.js';
import { ZipArchive, type ZipEntry } from './zip.js';
import { isNode, readBytes, sourceName, type ByteSource } from './source.js';
import { parseModelConfig, type KerasLayer, type KerasModelSpec } from './keras-config.js';
import { canonicalClass, convertLayer, expectsWeights, isSupported, refusal, type LayerNode } from './keras-layers.js';

export type KerasFormat = 'keras-zip' | 'h5-full-model' | 'h5-weights-only' | 'weights-h5';

export interface KerasLoadOptions {
  /** Architecture for weights-only files (or to override a file's own config). */
  architecture?: KerasModelSpec;
  /** Input shape without batch, for models whose input has unknown dimensions. */
  inputShape?: number[];
  /** Name for messages when `source` is bytes. */
  name?: string;
  /** Accept weights holding NaN or ±Inf and negative batch-norm variances (refused by default, naming the layer). */
  allowBadWeights?: boolean;
  /** Refuse a .keras archive whose config.json is larger (default 64 MiB). */
  maxConfigBytes?: number;
  /**
   * Asked, for a weights-only legacy file and no `architecture`, with the names of the layers the file
   * holds and the shapes of each one's weights (in the file's order): returns the architecture they
   * belong to (the application recognisers: VGG16, ResNet50, …), or nothing. The file is read once.
   */
  recognize?: (
    layerNames: string[],
    weightShapes: (layer: string) => number[][],
  ) => KerasModelSpec | undefined | Promise<KerasModelSpec | undefined>;
  /** Told as each layer's weights are read ('read', in layers). */
  onProgress?: OnLoadProgress;
}

export interface LoadedKeras {
  graph: Graph;
  /** The layers' weight arrays, by node name (the IR holds none). */
  weights: GraphWeights;
  spec: KerasModelSpec;
  format: KerasFormat;
  kerasVersion?: string;
}

/** Looks up one layer's weight arrays, in Keras order. */
type WeightSource = (layer: KerasLayer) => Float32Dataset[] | undefined;

/**
 * The bytes of a source, or undefined for a file on a local disk (Node), which is read in place: HDF5 by
 * h5wasm, a zip by ranges. Returns whether it is a zip (a .keras archive) either way.
 */
async function readSource(source: ByteSource, name: string): Promise<{ bytes?: Uint8Array; zip: boolean }> {
  if (typeof source !== 'string' || !isNode) {
    const bytes = await readBytes(source, name);
    return { bytes, zip: isZip(bytes) };
  }
  const fs = await import(/* @vite-ignore */ 'node:fs');
  if (!fs.existsSync(source)) throw new ModelFileError(name, 'no such file');
  if (fs.statSync(source).isDirectory()) throw new ModelFileError(name, 'is a directory, not a file');
  const fd = fs.openSync(source, 'r');
  const head = new Uint8Array(4);
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  return { zip: isZip(head) };
}

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** Default limit on a .keras archive's config.json (real ones are well under 1 MB; ConvNeXtXLarge's is ~0.2 MB). */
export const DEFAULT_MAX_CONFIG_BYTES = 64 << 20;

export async function loadKerasGraph(source: ByteSource, options: KerasLoadOptions = {}): Promise<LoadedKeras> {
  const name = options.name ?? sourceName(source, 'Keras model');
  const { bytes, zip } = await readSource(source, name);
  if (zip) return loadKerasZip(bytes ?? (source as string), name, options);
  const h5 = await Hdf5File.open(bytes ?? (source as string), name);
  try {
    const modelConfig = h5.stringAttr('/', 'model_config');
    const rootVersion = h5.stringAttr('/', 'keras_version');
    if (modelConfig !== undefined) {
      const spec = options.architecture ?? parseModelConfig(parseJson(modelConfig, name, 'model_config'), name);
      if (!h5.isGroup('/model_weights'))
        throw new ModelFileError(name, "has a model_config but no 'model_weights' group");
      const kerasVersion = rootVersion ?? h5.stringAttr('/model_weights', 'keras_version');
      return build(spec, legacyWeights(h5, '/model_weights', name), name, options, 'h5-full-model', kerasVersion);
    }
    const layerNames = h5.stringListAttr('/', 'layer_names');
    if (layerNames !== undefined) {
      const recognized = options.architecture
        ? undefined
        : await options.recognize?.(layerNames, (layer) => legacyShapes(h5, layer));
      const spec = recognized ?? requireArchitecture(options, name, 'a weights-only Keras file (model.save_weights)');
      checkLegacyCoverage(h5, spec, name);
      return build(spec, legacyWeights(h5, '/', name), name, options, 'h5-weights-only', rootVersion);
    }
    if (h5.isGroup('/layers')) {
      const spec = requireArchitecture(options, name, 'a Keras 3 .weights.h5 file');
      return build(spec, keras3Weights(h5, spec, name), name, options, 'weights-h5', undefined);
    }
    throw new ModelFileError(name, 'is HDF5 but not a Keras model: no model_config, layer_names or layers group');
  } finally {
    h5.close();
  }
}

function requireArchitecture(options: KerasLoadOptions, name: string, what: string): KerasModelSpec {
  if (!options.architecture) {
    throw new ModelFileError(
      name,
      `is ${what} with no architecture inside; load it with an architecture (e.g. the VGG16 builder)`,
    );
  }
  return options.architecture;
}

function parseJson(text: string, file: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFileError(file, `${what} is not valid JSON (${(e as Error).message})`);
  }
}

async function loadKerasZip(
  source: Uint8Array | string,
  name: string,
  options: KerasLoadOptions,
): Promise<LoadedKeras> {
  const zip = await ZipArchive.open(source, name);
  try {
    const text = (entry: string, limit: number, hint: string) => {
      const e = zip.entry(entry);
      return e ? new TextDecoder().decode(zip.read(e, limit, hint)) : undefined;
    };
    const configText = text(
      'config.json',
      options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
      'raise it with maxConfigBytes',
    );
    if (!configText && !options.architecture) throw new ModelFileError(name, '.keras archive has no config.json');
    const weightsEntry = zip.entry('model.weights.h5');
    if (!weightsEntry) {
      const other = zip.entries.filter((e) => /model\.weights/.test(e.name)).map((e) => e.name);
      throw new ModelFileError(
        name,
        `.keras archive has no model.weights.h5${other.length ? ` (found ${other.join(', ')}, not supported)` : ''}`,
      );
    }
    const metadata = text('metadata.json', 1 << 20, 'metadata.json is never that large');
    const kerasVersion = metadata
      ? String(parseJson(metadata, name, 'metadata.json').keras_version ?? '') || undefined
      : undefined;
    const spec = options.architecture ?? parseModelConfig(parseJson(configText!, name, 'config.json'), name);
    // Checked before the (large) weights are read: an unsupported layer fails fast.
    checkSupported(spec, name);
    const h5 = await openWeightsEntry(zip, weightsEntry, `${name} (model.weights.h5)`);
    try {
      return build(spec, keras3Weights(h5, spec, h5.name), name, options, 'keras-zip', kerasVersion ?? '3');
    } finally {
      h5.close();
    }
  } finally {
    zip.close();
  }
}

/** The archive's weights as an HDF5 file: in Node streamed to a temporary file (removed on close), else in memory. */
async function openWeightsEntry(zip: ZipArchive, entry: ZipEntry, label: string): Promise<Hdf5File> {
  if (!isNode) return Hdf5File.open(zip.read(entry, Number.MAX_SAFE_INTEGER, ''), label);
  const [fs, os, path] = await Promise.all([
    import(/* @vite-ignore */ 'node:fs'),
    import(/* @vite-ignore */ 'node:os'),
    import(/* @vite-ignore */ 'node:path'),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webgpu-cnn-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, 'model.weights.h5');
    await zip.extractTo(entry, file);
    return await Hdf5File.open(file, label, remove);
  } catch (e) {
    remove();
    throw e;
  }
}

/** Keras 2 layout: <base>/<layer>/ with weight_names relative to that group (nested models: <base>/<model>/). */
function legacyWeights(h5: Hdf5File, base: string, file: string): WeightSource {
  const join = (...parts: string[]) => parts.join('/').replace(/\/+/g, '/');
  return (layer) => {
    const group = join(base, layer.scope[0] ?? layer.name);
    if (!h5.isGroup(group)) return undefined;
    let names = h5.stringListAttr(group, 'weight_names') ?? [];
    // A nested model's group lists every inner layer's weights: 'inner/var' (Keras 2) or 'model/inner/var' (Keras 3).
    if (layer.scope.length)
      names = names.filter((n) => n.startsWith(`${layer.name}/`) || n.startsWith(`${layer.scope[0]}/${layer.name}/`));
    return names.map((n) => {
      const path = join(group, n);
      if (!h5.has(path))
        throw new ModelFileError(file, `layer '${layer.name}': weight '${n}' listed but missing at ${path}`);
      return h5.dataset(path);
    });
  };
}

/** The shapes of a legacy file's layer weights, in weight_names order ([] for a layer without weights). */
function legacyShapes(h5: Hdf5File, layer: string): number[][] {
  if (!h5.isGroup(`/${layer}`)) return [];
  return (h5.stringListAttr(`/${layer}`, 'weight_names') ?? []).map((n) => h5.shapeOf(`/${layer}/${n}`));
}

/** Weights-only files list their layers: every layer holding weights there must exist in the architecture. */
function checkLegacyCoverage(h5: Hdf5File, spec: KerasModelSpec, file: string): void {
  const known = new Set(spec.layers.map((l) => l.name));
  for (const name of h5.stringListAttr('/', 'layer_names') ?? []) {
    const weights = h5.stringListAttr(`/${name}`, 'weight_names') ?? [];
    if (weights.length && !known.has(name)) {
      throw new ModelFileError(
        file,
        `holds weights for layer '${name}', which the architecture '${spec.name}' does not have`,
      );
    }
  }
}

/** Keras's naming.to_snake_case, which names the weight groups of .keras files. */
export function toSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Keras 3 layout: /layers/<key>/vars/<i>. Keys are the snake_case class name made unique in layer
 * order (conv2d, conv2d_1, …); files since Keras 3.10 also record the layer name on each vars group.
 */
function keras3Weights(h5: Hdf5File, spec: KerasModelSpec, file: string): WeightSource {
  const byName = new Map<string, string>();
  const visit = (prefix: string) => {
    if (!h5.isGroup(prefix)) return;
    for (const key of h5.keys(prefix)) {
      const name = h5.stringAttr(`${prefix}/${key}/vars`, 'name');
      if (name) byName.set(name, `${prefix}/${key}`);
      if (h5.isGroup(`${prefix}/${key}/layers`)) visit(`${prefix}/${key}/layers`);
    }
  };
  visit('/layers');
  const derived = new Map<string, string>();
  const used = new Map<string, number>();
  for (const layer of spec.layers) {
    if (layer.scope.length) continue; // nested models need the recorded names
    const base = toSnakeCase(layer.className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    derived.set(layer.name, `/layers/${n === undefined ? base : `${base}_${n + 1}`}`);
  }
  return (layer) => {
    const group = byName.get(layer.name) ?? (byName.size ? undefined : derived.get(layer.name));
    if (!group || !h5.isGroup(`${group}/vars`)) {
      if (layer.scope.length && !byName.size) {
        throw new ModelFileError(
          file,
          `layer '${layer.name}' is inside nested model '${layer.scope.join('/')}', ` +
            'whose weights this Keras version does not name; re-save with Keras ≥ 3.10',
        );
      }
      return undefined;
    }
    const keys = h5.keys(`${group}/vars`).sort((a, b) => Number(a) - Number(b));
    return keys.map((k) => h5.dataset(`${group}/vars/${k}`));
  };
}

function kerasMajor(version: string | undefined): number {
  const major = Number.parseInt(version ?? '', 10);
  return Number.isFinite(major) ? major : 2;
}

/**
 * A graph and its weights from an architecture and weight arrays by layer name (in Keras order),
 * as the loaders build it.
 */
export function buildKerasGraph(
  spec: KerasModelSpec,
  weights: Map<string, Float32Dataset[]>,
  options: KerasLoadOptions & { kerasVersion?: string } = {},
): WeightedGraph {
  const file = options.name ?? spec.name;
  const loaded = build(spec, (l) => weights.get(l.name), file, options, 'h5-full-model', options.kerasVersion);
  return { graph: loaded.graph, weights: loaded.weights };
}

function build(
  spec: KerasModelSpec,
  weightsOf: WeightSource,
  file: string,
  options: KerasLoadOptions,
  format: KerasFormat,
  kerasVersion?: string,
): LoadedKeras {
  checkSupported(spec, file);
  const nodes: LayerNode[] = [];
  for (const [i, layer] of spec.layers.entries()) {
    let weights: Float32Dataset[] = [];
    if (expectsWeights(layer)) {
      const found = weightsOf(layer);
      if (!found)
        throw new ModelFileError(
          file,
          `no weights for layer '${layer.name}' (${layer.className}): its weight group is missing`,
        );
      weights = found;
    }
    const inputShape = canonicalClass(layer.className) === 'InputLayer' ? options.inputShape : undefined;
    nodes.push(
      ...convertLayer(layer, weights, file, {
        kerasMajor: kerasMajor(kerasVersion),
        inputShape,
        allowBadWeights: options.allowBadWeights,
      }),
    );
    options.onProgress?.({ stage: 'read', done: i + 1, total: spec.layers.length });
  }
  const weights = new Map<string, NodeWeights>();
  const plain = nodes.map(({ weights: w, ...node }): Node => {
    if (w) weights.set(node.name, w);
    return node;
  });
  const graph: Graph = {
    name: spec.name,
    nodes: topologicalOrder(plain, file),
    inputs: spec.inputs,
    outputs: spec.outputs,
  };
  return { graph, weights, spec, format, kerasVersion };
}

/** Every layer's class must be supported; fails naming the first unsupported one (and counting the rest). */
function checkSupported(spec: KerasModelSpec, file: string): void {
  const unsupported = spec.layers.filter((l) => !isSupported(l));
  if (!unsupported.length) return;
  const l = unsupported[0];
  const more =
    unsupported.length > 1
      ? ` (and ${unsupported.length - 1} more: ${unsupported
          .slice(1)
          .map((u) => `'${u.name}' (${u.className})`)
          .join(', ')})`
      : '';
  throw new ModelFileError(file, `layer '${l.name}' ${refusal(l)}${more}`, { layer: l.name });
}

/** Keras lists layers in a valid order in practice; this makes sure (stable, and reports cycles). */
function topologicalOrder(nodes: Node[], file: string): Node[] {
  const names = new Set(nodes.map((n) => n.name));
  for (const n of nodes) {
    for (const i of n.inputs)
      if (!names.has(i)) throw new ModelFileError(file, `layer '${n.name}' reads '${i}', which is not a layer`);
  }
  const placed = new Set<string>();
  const out: Node[] = [];
  const pending = [...nodes];
  while (pending.length) {
    // The first layer whose inputs are all placed: keeps Keras's order whenever it is already valid.
    const i = pending.findIndex((n) => n.inputs.every((input) => placed.has(input)));
    if (i < 0) throw new ModelFileError(file, `layers ${pending.map((n) => `'${n.name}'`).join(', ')} form a cycle`);
    const [node] = pending.splice(i, 1);
    out.push(node);
    placed.add(node.name);
  }
  return out;
}
