// Keras model_config / config.json → a flat list of layers with their inbound layer names, for every
// variant real files use: Sequential as a bare list (Keras 2.1) or {name, layers} (2.2+), Functional
// ("Model" in old Keras) with Keras 2 inbound_nodes ([[name, node, tensor, kwargs]]) or Keras 3 ones
// ({args: [keras tensors]}), and input shapes from InputLayer or batch_input_shape/batch_shape.
// A model nested as a layer (a VGG16 base inside a Sequential) is inlined, its layers keeping their names.
import { ModelFileError } from './errors.js';
import { LayerError } from './keras-config-reader.js';

export interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Names of the layers whose outputs this layer reads. */
  inbound: string[];
  /** Path of enclosing nested models (outermost first), for locating weights. */
  scope: string[];
  /**
   * A Keras 3 operation node (`x + 3.0`, `ops.gelu(x)`), not a layer: `.keras` files say so by their
   * module (keras.src.ops.*); legacy `.h5` files, which have no module, by a config without `dtype`.
   */
  operation?: boolean;
  /** An operation node's positional operands in order: a layer name, or a Python number. */
  operands?: (string | number)[];
  /** The inbound tensors' shapes (batch first, null where unknown), where the file records them (Keras 3). */
  inboundShapes?: (number | null)[][];
}

export interface KerasModelSpec {
  name: string;
  layers: KerasLayer[];
  inputs: string[];
  outputs: string[];
  /** Nested models (inlined) by name → the layer whose output is theirs, to read them as intermediates. */
  nestedOutputs?: Record<string, string>;
}

type Json = Record<string, unknown>;

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Models nested deeper than this are refused (real applications nest one or two levels). */
const MAX_NESTING = 32;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The input shape (without batch) a layer config declares, if any. */
export function declaredInputShape(config: Json): (number | null)[] | undefined {
  const key = config.batch_input_shape !== undefined ? 'batch_input_shape' : 'batch_shape';
  const shape = config[key];
  if (shape === undefined || shape === null) return undefined;
  if (!Array.isArray(shape) || shape.length < 2 || !shape.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
    throw new LayerError(`${key} ${JSON.stringify(shape)} is not a shape (a list of sizes or None, batch first)`, key);
  }
  return shape.slice(1) as (number | null)[];
}

/** A layer entry's class name and config, checked to be what Keras writes. */
function layerEntry(l: unknown, file: string, where: string): { className: string; config: Json; name: string } {
  if (!isObject(l)) throw new ModelFileError(file, `${where}: a layer entry is ${JSON.stringify(l)}, not an object`);
  const className = l.class_name;
  const config = l.config;
  const name =
    isObject(config) && typeof config.name === 'string' ? config.name : typeof l.name === 'string' ? l.name : undefined;
  const label = name ? `layer '${name}'` : where;
  if (typeof className !== 'string' || !className)
    throw new ModelFileError(file, `${label}: class_name is missing or not a string`, {
      layer: name,
      field: 'class_name',
    });
  if (!MODEL_CLASSES.has(className) && !isObject(config)) {
    throw new ModelFileError(
      file,
      `${label} (${className}): config is ` +
        `${config === undefined ? 'missing' : `${JSON.stringify(config)}, not an object`}`,
      { layer: name, field: 'config' },
    );
  }
  if (!name) throw new ModelFileError(file, `${where} (${className}): the layer has no name`, { field: 'name' });
  return { className, config: (isObject(config) ? config : {}) as Json, name };
}

export function parseModelConfig(json: Json, file: string): KerasModelSpec {
  if (!isObject(json)) throw new ModelFileError(file, 'the model config is not a JSON object');
  const className = json.class_name as string;
  if (!MODEL_CLASSES.has(className)) {
    throw new ModelFileError(file, `model class ${JSON.stringify(className)} is not Sequential or Functional`);
  }
  const layers: KerasLayer[] = [];
  const nested: Record<string, string> = {};
  const io = addModel(json, [], layers, file, nested);
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) throw new ModelFileError(file, `two layers are named '${l.name}'`);
    names.add(l.name);
  }
  const spec: KerasModelSpec = {
    name: String((json.config as Json | undefined)?.name ?? className),
    layers,
    inputs: io.inputs,
    outputs: io.outputs,
  };
  if (Object.keys(nested).length) spec.nestedOutputs = nested;
  return spec;
}

/** Appends a (possibly nested) model's layers; returns its input and output layer names. */
function addModel(
  json: Json,
  scope: string[],
  out: KerasLayer[],
  file: string,
  nested: Record<string, string>,
): { inputs: string[]; outputs: string[] } {
  if (scope.length > MAX_NESTING)
    throw new ModelFileError(file, `models are nested more than ${MAX_NESTING} deep (at '${scope.join('/')}')`);
  const config = json.config as Json | Json[];
  if (!Array.isArray(config) && !isObject(config)) {
    throw new ModelFileError(
      file,
      `model '${scope.at(-1) ?? json.class_name}': config is ${JSON.stringify(config)}, not an object`,
      { field: 'config' },
    );
  }
  if (json.class_name === 'Sequential') {
    const list = Array.isArray(config) ? config : config.layers;
    if (!Array.isArray(list))
      throw new ModelFileError(
        file,
        `Sequential model '${scope.at(-1) ?? (config as Json).name}': layers is not a list`,
        { field: 'layers' },
      );
    return addSequential(
      list as Json[],
      scope,
      out,
      file,
      Array.isArray(config) ? 'sequential' : String(config.name),
      nested,
    );
  }
  if (!isObject(config) || !Array.isArray(config.layers)) {
    throw new ModelFileError(
      file,
      `Functional model '${scope.at(-1) ?? (isObject(config) ? config.name : '?')}': layers is not a list`,
      { field: 'layers' },
    );
  }
  return addFunctional(config, scope, out, file, nested);
}

function layerName(l: Json): string {
  return String((l.config as Json | undefined)?.name ?? l.name);
}

function addSequential(
  list: Json[],
  scope: string[],
  out: KerasLayer[],
  file: string,
  modelName: string,
  nested: Record<string, string>,
) {
  if (!list?.length) throw new ModelFileError(file, `Sequential model '${modelName}' has no layers`);
  let previous: string[] = [];
  let inputs: string[] = [];
  list.forEach((l, i) => {
    const { config } = layerEntry(l, file, `Sequential model '${modelName}', layer ${i}`);
    if (i === 0 && l.class_name !== 'InputLayer' && !MODEL_CLASSES.has(String(l.class_name))) {
      const shape = withLayer(file, layerName(l), () => declaredInputShape(config));
      if (!shape) throw new ModelFileError(file, `Sequential model '${modelName}' declares no input shape`);
      const name = `${layerName(l)}_input`;
      out.push({ className: 'InputLayer', name, config: { batch_input_shape: [null, ...shape] }, inbound: [], scope });
      previous = [name];
      inputs = [name];
    }
    if (MODEL_CLASSES.has(String(l.class_name))) {
      const inner = addModel(l, [...scope, layerName(l)], out, file, nested);
      if (inner.outputs.length === 1) nested[layerName(l)] = inner.outputs[0];
      if (previous.length) connectNestedInput(out, inner.inputs, previous, file);
      else inputs = inner.inputs;
      previous = inner.outputs;
      return;
    }
    out.push({ className: String(l.class_name), name: layerName(l), config, inbound: previous, scope });
    if (l.class_name === 'InputLayer') inputs = [layerName(l)];
    previous = [layerName(l)];
  });
  return { inputs, outputs: previous };
}

/** A nested model's InputLayer becomes an identity fed by the outer layer before it. */
function connectNestedInput(out: KerasLayer[], innerInputs: string[], feeds: string[], file: string) {
  if (innerInputs.length !== feeds.length)
    throw new ModelFileError(file, `nested model takes ${innerInputs.length} inputs, gets ${feeds.length}`);
  innerInputs.forEach((name, i) => {
    const layer = out.find((l) => l.name === name)!;
    layer.className = 'Dropout'; // an identity: the nested model's input is the outer tensor
    layer.config = { name };
    layer.inbound = [feeds[i]];
  });
}

/** Every layer name referenced by a Keras 2 or Keras 3 inbound node. */
function inboundNames(node: unknown): string[] {
  if (Array.isArray(node)) {
    // Keras 2: [name, nodeIndex, tensorIndex, kwargs] or a list of those.
    if (typeof node[0] === 'string' && typeof node[1] === 'number') return [node[0]];
    return node.flatMap(inboundNames);
  }
  if (node && typeof node === 'object') {
    const o = node as Json;
    const history = (o.config as Json | undefined)?.keras_history as unknown[] | undefined;
    if (o.class_name === '__keras_tensor__' && history) return [String(history[0])];
    return inboundNames(o.args ?? []);
  }
  return [];
}

/** Runs `fn`, turning a LayerError into a ModelFileError naming the file and the layer. */
export function withLayer<T>(file: string, layer: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    throw new ModelFileError(file, `layer '${layer}': ${e.message}`, { layer, field: e.field });
  }
}

/** The shapes Keras 3 records on each inbound tensor, in inbound order; undefined when any is missing. */
function inboundShapes(node: unknown): (number | null)[][] | undefined {
  const shapes: (number | null)[][] = [];
  let complete = true;
  const visit = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isObject(v)) return;
    if (v.class_name === '__keras_tensor__') {
      const shape = (v.config as Json | undefined)?.shape;
      if (Array.isArray(shape)) shapes.push(shape as (number | null)[]);
      else complete = false;
      return;
    }
    visit(v.args ?? []);
  };
  visit(node);
  return complete && shapes.length ? shapes : undefined;
}

/** Whether a Functional entry is an operation node rather than a layer (see KerasLayer.operation). */
function isOperation(l: Json, node: unknown): boolean {
  if (typeof l.module === 'string') return l.module.startsWith('keras.src.ops');
  // Legacy h5 has no module; only Keras 3 writes {args, kwargs} nodes, and its layers always carry dtype.
  const keras3Node = isObject(node) && Array.isArray(node.args);
  return (
    keras3Node &&
    isObject(l.config) &&
    !('dtype' in l.config) &&
    !MODEL_CLASSES.has(String(l.class_name)) &&
    l.class_name !== 'InputLayer'
  );
}

/** An operation node's positional args: tensors by layer name, numbers as they are. */
function operandsOf(node: Json, layer: string, file: string, renamed: Map<string, string>): (string | number)[] {
  return (node.args as unknown[]).map((a) => {
    if (typeof a === 'number') return a;
    const names = inboundNames(a);
    if (names.length !== 1 || Array.isArray(a)) {
      throw new ModelFileError(
        file,
        `operation '${layer}': argument ${JSON.stringify(a).slice(0, 80)} is not a tensor or a number`,
        { layer, field: 'inbound_nodes' },
      );
    }
    return renamed.get(names[0]) ?? names[0];
  });
}

function ioNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  if (typeof list[0] === 'string') return [list[0]];
  return list.flatMap(ioNames);
}

function addFunctional(config: Json, scope: string[], out: KerasLayer[], file: string, nested: Record<string, string>) {
  const layers = config.layers as Json[];
  if (!layers?.length) throw new ModelFileError(file, `Functional model '${config.name}' has no layers`);
  const renamed = new Map<string, string>(); // nested model name → its output layer
  for (const [i, entry] of layers.entries()) {
    layerEntry(entry, file, `Functional model '${config.name}', layer ${i}`);
    const l = entry as Json;
    const name = layerName(l);
    const nodes = (l.inbound_nodes ?? []) as unknown[];
    if (!Array.isArray(nodes))
      throw new ModelFileError(file, `layer '${name}': inbound_nodes is not a list`, {
        layer: name,
        field: 'inbound_nodes',
      });
    if (nodes.length > 1) {
      throw new ModelFileError(
        file,
        `layer '${name}' (${l.class_name}) is called ${nodes.length} times; shared layers are not supported`,
      );
    }
    const inbound = nodes.length ? inboundNames(nodes[0]).map((n) => renamed.get(n) ?? n) : [];
    if (MODEL_CLASSES.has(String(l.class_name))) {
      const inner = addModel(l, [...scope, name], out, file, nested);
      connectNestedInput(out, inner.inputs, inbound, file);
      if (inner.outputs.length !== 1) throw new ModelFileError(file, `nested model '${name}' must have one output`);
      renamed.set(name, inner.outputs[0]);
      nested[name] = inner.outputs[0];
      continue;
    }
    const layer: KerasLayer = { className: String(l.class_name), name, config: l.config as Json, inbound, scope };
    const shapes = nodes.length ? inboundShapes(nodes[0]) : undefined;
    if (shapes?.length === inbound.length) layer.inboundShapes = shapes;
    if (nodes.length && isOperation(l, nodes[0])) {
      layer.operation = true;
      layer.operands = operandsOf(nodes[0] as Json, name, file, renamed);
    }
    out.push(layer);
  }
  return {
    inputs: ioNames(config.input_layers),
    outputs: ioNames(config.output_layers).map((n) => renamed.get(n) ?? n),
  };
}
