// TensorFlow.js's WebGPU backend as a peer, on the same Dawn adapter: it runs the same optimized
// graph (same weights, batch norm folded, activations fused into its fused conv/matMul ops).
// Dev-only: imported by the benchmark, never by the library.
import type { Node, WeightedGraph } from '../src/graph/ir.js';
import type { NodeWeights } from '../src/ops/lowering.js';
import type { Activation } from '../src/ops/activation.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type T = import('@tensorflow/tfjs-core').Tensor;
type T4 = import('@tensorflow/tfjs-core').Tensor4D;

let tfPromise: Promise<Tf> | undefined;

/** TF.js registers its WebGPU backend only if navigator.gpu exists when the module is imported. */
export function loadTfWebgpu(gpu: GPU): Promise<Tf> {
  return (tfPromise ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GPU } };
    g.navigator ??= {};
    g.navigator.gpu ??= gpu;
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js: the webgpu backend did not initialise');
    await tf.ready();
    return tf;
  })());
}

type Fused = { activation: 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'elu'; leakyreluAlpha?: number };

/** The activations TF.js's fused ops take; undefined for those it computes as separate ops (mish, swish). */
function fusable(a: Activation | undefined): Fused | undefined {
  switch (a?.kind ?? 'linear') {
    case 'linear':
      return { activation: 'linear' };
    case 'relu':
      return { activation: 'relu' };
    case 'relu6':
      return { activation: 'relu6' };
    case 'leaky':
      return { activation: 'leakyrelu', leakyreluAlpha: (a as { alpha: number }).alpha };
    case 'sigmoid':
      return { activation: 'sigmoid' };
    case 'mish':
    case 'swish':
      return undefined;
    default:
      throw new Error(`TF.js peer: activation ${a?.kind} not mapped`);
  }
}

const fusedActivation = (a: Activation | undefined): Fused => fusable(a) ?? { activation: 'linear' };

/** What a fused op left out: the activation TF.js could not fuse (identity otherwise). */
const afterFused =
  (tf: Tf, a: Activation | undefined) =>
  (x: T): T =>
    fusable(a) ? x : applyActivation(tf, x, a);

function applyActivation(tf: Tf, x: T, a: Activation | undefined): T {
  if (a?.kind === 'mish') return tf.mul(x, tf.tanh(tf.softplus(x)));
  if (a?.kind === 'swish') return tf.mul(x, tf.sigmoid(x));
  const f = fusedActivation(a);
  switch (f.activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, f.leakyreluAlpha);
    case 'sigmoid':
      return tf.sigmoid(x);
    default:
      return tf.elu(x);
  }
}

const MAX_BINDING = 128 * 1024 * 1024;

/** Builds TF.js tensors for every weight once and returns a runner for the graph. */
export function tfGraph(
  tf: Tf,
  { graph, weights }: WeightedGraph,
): { run(x: Float32Array, batch: number): Promise<Float32Array[]>; dispose(): void } {
  const held: T[] = [];
  const keep = <U extends T>(t: U) => (held.push(t), t);
  const prepared = new Map<string, (inputs: T[]) => T>();
  for (const node of graph.nodes) prepared.set(node.name, prepare(tf, node, weights.get(node.name) ?? {}, keep));
  return {
    async run(x: Float32Array, batch: number) {
      const outputs = tf.tidy(() => {
        const values = new Map<string, T>();
        for (const node of graph.nodes) {
          if (node.op.kind === 'input') values.set(node.name, tf.tensor(x, [batch, ...node.op.shape]));
          else values.set(node.name, prepared.get(node.name)!(node.inputs.map((i) => values.get(i)!)));
        }
        return graph.outputs.map((o) => values.get(o)!);
      });
      const data = await Promise.all(outputs.map((o) => o.data() as Promise<Float32Array>));
      outputs.forEach((o) => o.dispose());
      return data;
    },
    dispose() {
      held.forEach((w) => w.dispose());
    },
  };
}

function prepare(tf: Tf, node: Node, w: NodeWeights, keep: <U extends T>(t: U) => U): (inputs: T[]) => T {
  const op = node.op;
  switch (op.kind) {
    case 'input':
      return () => {
        throw new Error('input');
      };
    case 'identity':
      return ([x]) => x;
    case 'reshape':
      return ([x]) => tf.reshape(x, [x.shape[0], ...op.shape]);
    case 'conv2d': {
      const [kh, kw, cg, oc] = op.kernelShape;
      const bias = keep(tf.tensor1d(w.bias ?? new Float32Array(oc)));
      const groups = op.attrs.groups ?? 1;
      const pads = op.attrs.padding ?? 'valid';
      const pad =
        typeof pads === 'string'
          ? pads
          : ([
              [0, 0],
              [pads[0], pads[1]],
              [pads[2], pads[3]],
              [0, 0],
            ] as [[number, number], [number, number], [number, number], [number, number]]);
      const act = fusedActivation(op.attrs.activation),
        rest = afterFused(tf, op.attrs.activation);
      const strides = [...(op.attrs.strides ?? [1, 1])] as [number, number];
      const dilations = [...(op.attrs.dilations ?? [1, 1])] as [number, number];
      if (groups > 1) {
        if (cg !== 1) throw new Error('TF.js peer: grouped (non-depthwise) conv not mapped');
        const filter = keep(tf.tensor4d(w.kernel, [kh, kw, groups, oc / groups]));
        // Its depthwise op takes no explicit padding: pad first.
        const padded = (x: T) => (typeof pad === 'string' ? x : tf.pad(x, pad));
        return ([x]) =>
          rest(
            tf.fused.depthwiseConv2d({
              x: padded(x) as T4,
              filter,
              strides,
              pad: typeof pad === 'string' ? pad : 'valid',
              dilations,
              bias,
              ...act,
            }),
          );
      }
      const filter = keep(tf.tensor4d(w.kernel, [kh, kw, cg, oc]));
      // Squeeze-and-excite's channel scale folded into the conv: TF.js multiplies first, as Keras does.
      const scaled = ([x, s]: T[]) => (op.channelScale ? tf.mul(x, tf.reshape(s, [x.shape[0], 1, 1, -1])) : x);
      return (xs) => rest(tf.fused.conv2d({ x: scaled(xs) as T4, filter, strides, pad, dilations, bias, ...act }));
    }
    case 'dense': {
      const k = w.kernel.length / op.units;
      const bias = keep(tf.tensor1d(w.bias ?? new Float32Array(op.units)));
      const act = fusedActivation(op.activation);
      // TF.js binds a weight whole; over the 128 MiB limit it returns garbage, so split by columns
      // as its users must (the issue's note on VGG16's fc1).
      const blocks = Math.ceil((4 * w.kernel.length) / MAX_BINDING);
      if (blocks === 1) {
        const b = keep(tf.tensor2d(w.kernel, [k, op.units]));
        return ([x]) =>
          tf.fused.matMul({ a: tf.reshape(x, [-1, k]) as import('@tensorflow/tfjs-core').Tensor2D, b, bias, ...act });
      }
      const cols = Math.ceil(op.units / blocks / 4) * 4;
      const parts: { b: import('@tensorflow/tfjs-core').Tensor2D; bias: T }[] = [];
      for (let c0 = 0; c0 < op.units; c0 += cols) {
        const n = Math.min(cols, op.units - c0);
        const block = new Float32Array(k * n);
        for (let r = 0; r < k; r++) block.set(w.kernel.subarray(r * op.units + c0, r * op.units + c0 + n), r * n);
        parts.push({
          b: keep(tf.tensor2d(block, [k, n])),
          bias: keep(tf.tensor1d((w.bias ?? new Float32Array(op.units)).slice(c0, c0 + n))),
        });
      }
      return ([x]) =>
        tf.concat(
          parts.map((p) =>
            tf.fused.matMul({
              a: tf.reshape(x, [-1, k]) as import('@tensorflow/tfjs-core').Tensor2D,
              b: p.b,
              bias: p.bias,
              ...act,
            }),
          ),
          -1,
        );
    }
    case 'pool2d': {
      const { kind, padding = 'valid' } = op.attrs;
      const size = [...op.attrs.size] as [number, number];
      const strides = [...(op.attrs.strides ?? op.attrs.size)] as [number, number];
      const pool = (x: T, pad: 'valid' | 'same') =>
        kind === 'max' ? tf.maxPool(x as T4, size, strides, pad) : tf.avgPool(x as T4, size, strides, pad);
      if (typeof padding === 'string') return ([x]) => pool(x, padding);
      const [t, b, l, r] = padding;
      if (kind === 'avg' && (t || b || l || r)) throw new Error('TF.js peer: padded average pooling not mapped');
      return ([x]) =>
        pool(
          tf.pad(
            x,
            [
              [0, 0],
              [t, b],
              [l, r],
              [0, 0],
            ],
            -Infinity,
          ),
          'valid',
        );
    }
    case 'scale': {
      const scale = keep(tf.tensor1d(w.scale)),
        offset = keep(tf.tensor1d(w.offset));
      return ([x]) => tf.add(tf.mul(x, scale), offset);
    }
    case 'batchnorm': {
      if (op.axis !== -1 && op.axis !== 3) throw new Error(`TF.js peer: batch norm on axis ${op.axis} not mapped`);
      const t = (v?: Float32Array) => (v ? keep(tf.tensor1d(v)) : undefined);
      const [mean, variance, beta, gamma] = [t(w.mean)!, t(w.variance)!, t(w.beta), t(w.gamma)];
      return ([x]) => applyActivation(tf, tf.batchNorm(x, mean, variance, beta, gamma, op.epsilon), op.activation);
    }
    case 'global-pool':
      return ([x]) => (op.pool === 'avg' ? tf.mean(x, [1, 2], op.keepDims) : tf.max(x, [1, 2], op.keepDims));
    case 'activation':
      return ([x]) => applyActivation(tf, x, op.activation);
    case 'softmax':
      return ([x]) => tf.softmax(x);
    case 'add':
      return ([a, b]) => applyActivation(tf, tf.add(a, b), op.activation);
    case 'binary': {
      const fn = (
        { add: tf.add, mul: tf.mul, sub: tf.sub, max: tf.maximum, min: tf.minimum, div: tf.div } as Record<
          string,
          (a: T, b: T) => T
        >
      )[op.op];
      if (!fn || op.batchAligned) throw new Error(`TF.js peer: binary ${op.op} not mapped`);
      const operand = op.constant
        ? keep(tf.scalar(op.constant.value))
        : op.operandShape
          ? keep(tf.tensor(w.operand, op.operandShape))
          : undefined;
      return ([a, b]) => applyActivation(tf, op.constant?.first ? fn(operand!, a) : fn(a, operand ?? b), op.activation);
    }
    case 'reorg':
      return ([x]) => {
        // In NCHW order both modes are a 6-D transpose between reshapes (see bench/onnx-export.ts).
        const [n, h, wd, c] = x.shape as number[],
          s = op.stride;
        const view = op.mode === 'darknet' ? [n, c / (s * s), h, s, wd, s] : [n, c, h / s, s, wd / s, s];
        const moved = tf.transpose(tf.reshape(tf.transpose(x, [0, 3, 1, 2]), view), [0, 3, 5, 1, 2, 4]);
        return tf.transpose(tf.reshape(moved, [n, c * s * s, h / s, wd / s]), [0, 2, 3, 1]);
      };
    case 'concat':
      return (xs) => tf.concat(xs, op.axis);
    case 'upsample':
      return ([x]) =>
        tf.image.resizeNearestNeighbor(x as T4, [x.shape[1]! * op.factors[0], x.shape[2]! * op.factors[1]]);
    case 'pad':
      return ([x]) =>
        tf.pad(x, [
          [0, 0],
          [op.pads[0], op.pads[1]],
          [op.pads[2], op.pads[3]],
          [0, 0],
        ]);
    case 'slice':
      return ([x]) => {
        const begin = x.shape.map(() => 0);
        begin[begin.length - 1] = op.begin;
        const size = x.shape.map((d) => d!);
        size[size.length - 1] = op.size;
        return tf.slice(x, begin, size);
      };
    default:
      throw new Error(`TF.js peer: op ${op.kind} not mapped`);
  }
}
