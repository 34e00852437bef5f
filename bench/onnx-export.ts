// Writes a graph as an ONNX model, so that ONNX Runtime Web can run the benchmark's work with the
// very same weights. Dev-only, for the benchmark: the ONNX protobuf schema comes from `onnx-proto`.
//
// ONNX convolutions and pools are NCHW while the graph is NHWC, so 4-D values are carried in NCHW:
// the input is transposed once, channel axes are remapped, and a value goes back to NHWC only where
// memory order matters (flatten, dense, softmax, outputs). ONNX Runtime's own layout pass then does
// what it prefers on its WebGPU provider.
import onnxProto from 'onnx-proto';
import type { Node, WeightedGraph } from '../src/graph/ir.js';
import type { NodeWeights } from '../src/ops/lowering.js';
import type { Activation } from '../src/ops/activation.js';
import { lowerGraph } from '../src/graph/plan.js';
import { windowAxis, type Padding } from '../src/ops/padding.js';

const { onnx } = onnxProto;
type NodeProto = import('onnx-proto').onnx.INodeProto;
type TensorProto = import('onnx-proto').onnx.ITensorProto;
type AttributeProto = import('onnx-proto').onnx.IAttributeProto;

const FLOAT = 1,
  INT64 = 7;
const NHWC_TO_NCHW = [0, 3, 1, 2],
  NCHW_TO_NHWC = [0, 2, 3, 1];
/** Bindings above this fail on a 128 MiB adapter: dense weights are split by columns below it. */
const MAX_BINDING_BYTES = 128 * 1024 * 1024;

/** Shapes only: limits loose enough that no benchmark graph is refused. */
const LOOSE_CAPS = {
  maxWorkgroupsPerDimension: 65535,
  maxInvocationsPerWorkgroup: 256,
  maxStorageBindingBytes: 2 ** 31,
};

interface Value {
  name: string;
  nchw: boolean;
  rank: number;
}

function attr(name: string, v: number | number[] | string | Float32Array): AttributeProto {
  if (typeof v === 'string')
    return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
  if (v instanceof Float32Array) return { name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...v] };
  return Number.isInteger(v) && !name.startsWith('alpha')
    ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
    : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
}

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  fresh(base: string): string {
    return `${base}#${this.count++}`;
  }

  node(opType: string, input: string[], base: string, attrs: AttributeProto[] = []): string {
    const out = this.fresh(base);
    this.nodes.push({ opType, input, output: [out], name: out, attribute: attrs });
    return out;
  }

  floats(base: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(base);
    this.initializers.push({
      name,
      dims,
      dataType: FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  ints(base: string, data: number[]): string {
    const name = this.fresh(base);
    this.initializers.push({
      name,
      dims: [data.length],
      dataType: INT64,
      rawData: new Uint8Array(BigInt64Array.from(data.map(BigInt)).buffer),
    });
    return name;
  }

  /** A 4-D value in NCHW (a reshape's output is NHWC-ordered, e.g. squeeze-and-excite's (N, 1, 1, C)). */
  nchw(v: Value): Value {
    if (v.nchw) return v;
    if (v.rank !== 4) throw new Error(`ONNX export: a ${v.rank}-D value where a 4-D one is needed`);
    return { name: this.node('Transpose', [v.name], 'to_nchw', [attr('perm', NHWC_TO_NCHW)]), nchw: true, rank: 4 };
  }

  nhwc(v: Value): Value {
    return v.nchw
      ? { name: this.node('Transpose', [v.name], 'to_nhwc', [attr('perm', NCHW_TO_NHWC)]), nchw: false, rank: 4 }
      : v;
  }

  activation(x: string, a: Activation | undefined, base: string): string {
    switch (a?.kind ?? 'linear') {
      case 'linear':
        return x;
      case 'relu': {
        const r = a as { maxValue?: number; negativeSlope?: number };
        if (r.negativeSlope) throw new Error('ONNX export: relu with a negative slope not mapped');
        return r.maxValue === undefined
          ? this.node('Relu', [x], base)
          : this.node(
              'Clip',
              [
                x,
                this.floats('min', new Float32Array([0]), []),
                this.floats('max', new Float32Array([r.maxValue]), []),
              ],
              base,
            );
      }
      case 'relu6':
        return this.node(
          'Clip',
          [x, this.floats('min', new Float32Array([0]), []), this.floats('max', new Float32Array([6]), [])],
          base,
        );
      case 'leaky':
        return this.node('LeakyRelu', [x], base, [attr('alpha', (a as { alpha: number }).alpha)]);
      case 'sigmoid':
        return this.node('Sigmoid', [x], base);
      case 'tanh':
        return this.node('Tanh', [x], base);
      // Opset 17 has no Mish (it came in 18): x·tanh(softplus(x)); swish is x·σ(x).
      case 'mish':
        return this.node(
          'Mul',
          [x, this.node('Tanh', [this.node('Softplus', [x], `${base}/softplus`)], `${base}/tanh`)],
          base,
        );
      case 'swish':
        return this.node('Mul', [x, this.node('Sigmoid', [x], `${base}/sigmoid`)], base);
      default:
        throw new Error(`ONNX export: activation ${a?.kind} not mapped`);
    }
  }
}

/** NHWC axis of a value (negative allowed) → its axis in the value's current layout. */
function axisOf(v: Value, axis: number): number {
  const a = axis < 0 ? axis + v.rank : axis;
  return v.nchw ? NHWC_TO_NCHW.indexOf(a) : a;
}

/**
 * Explicit ONNX pads [top, left, bottom, right] for a window over an NHWC input: 'same' is resolved
 * here because ONNX Runtime's SAME_UPPER rejects dilations.
 */
function windowPads(
  x: number[],
  pad: Padding | 'darknet' | undefined,
  k: readonly number[],
  s: readonly number[] = [1, 1],
  d: readonly number[] = [1, 1],
): AttributeProto {
  if (pad === 'darknet') throw new Error('ONNX export: darknet padding is resolved by the loader');
  const mode = (i: 0 | 1) =>
    typeof pad === 'string' || pad === undefined ? (pad ?? 'valid') : ([pad[2 * i], pad[2 * i + 1]] as const);
  const y = windowAxis(x[1], k[0], s[0], d[0], mode(0));
  const w = windowAxis(x[2], k[1], s[1], d[1], mode(1));
  return attr('pads', [y.before, w.before, y.after, w.after]);
}

function exportNode(
  g: Builder,
  node: Node,
  w: NodeWeights,
  xs: Value[],
  shape: number[],
  maxBindingBytes: number,
): Value {
  const op = node.op;
  const x = xs[0];
  const base = node.name;
  switch (op.kind) {
    case 'identity':
      return x;
    case 'conv2d': {
      const x = g.nchw(xs[0]);
      const [kh, kw, cg, oc] = op.kernelShape;
      const oihw = new Float32Array(w.kernel.length);
      for (let o = 0; o < oc; o++)
        for (let c = 0; c < cg; c++)
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              oihw[((o * cg + c) * kh + i) * kw + j] = w.kernel[((i * kw + j) * cg + c) * oc + o];
            }
      // Squeeze-and-excite's channel scale folded into the conv: s (N·C values, 1×1 spatially) multiplies first.
      const scaled = op.channelScale
        ? g.node(
            'Mul',
            [x.name, g.node('Reshape', [xs[1].name, g.ints(`${base}/s`, [0, -1, 1, 1])], `${base}/s4`)],
            `${base}/scaled`,
          )
        : x.name;
      const inputs = [
        scaled,
        g.floats(`${base}/W`, oihw, [oc, cg, kh, kw]),
        g.floats(`${base}/B`, w.bias ?? new Float32Array(oc), [oc]),
      ];
      let y = g.node('Conv', inputs, base, [
        attr('kernel_shape', [kh, kw]),
        attr('strides', [...(op.attrs.strides ?? [1, 1])]),
        attr('dilations', [...(op.attrs.dilations ?? [1, 1])]),
        attr('group', op.attrs.groups ?? 1),
        windowPads(shape, op.attrs.padding, [kh, kw], op.attrs.strides, op.attrs.dilations),
      ]);
      if (op.residual === 'before') y = g.node('Add', [y, xs[1].name], `${base}/add`);
      y = g.activation(y, op.attrs.activation, `${base}/act`);
      if (op.residual === 'after') y = g.node('Add', [y, xs[1].name], `${base}/add`);
      return { name: y, nchw: true, rank: 4 };
    }
    case 'dense': {
      const v = g.nhwc(x);
      const k = w.kernel.length / op.units;
      const bias = w.bias ?? new Float32Array(op.units);
      const blocks = Math.ceil((4 * w.kernel.length) / maxBindingBytes);
      const cols = Math.ceil(op.units / blocks / 4) * 4;
      const parts: string[] = [];
      for (let c0 = 0; c0 < op.units; c0 += cols) {
        const n = Math.min(cols, op.units - c0);
        const block = new Float32Array(k * n);
        for (let r = 0; r < k; r++) block.set(w.kernel.subarray(r * op.units + c0, r * op.units + c0 + n), r * n);
        const mm = g.node('MatMul', [v.name, g.floats(`${base}/W`, block, [k, n])], base);
        parts.push(g.node('Add', [mm, g.floats(`${base}/B`, bias.slice(c0, c0 + n), [n])], `${base}/bias`));
      }
      const y = parts.length === 1 ? parts[0] : g.node('Concat', parts, `${base}/concat`, [attr('axis', -1)]);
      return { name: g.activation(y, op.activation, `${base}/act`), nchw: false, rank: v.rank };
    }
    case 'pool2d': {
      const { kind, size, padding = 'valid' } = op.attrs;
      const strides = op.attrs.strides ?? size;
      const attrs = [
        attr('kernel_shape', [...size]),
        attr('strides', [...strides]),
        windowPads(shape, padding, size, strides),
      ];
      return { name: g.node(kind === 'max' ? 'MaxPool' : 'AveragePool', [x.name], base, attrs), nchw: true, rank: 4 };
    }
    case 'global-pool': {
      const y = g.node(op.pool === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], base);
      return op.keepDims
        ? { name: y, nchw: true, rank: 4 }
        : { name: g.node('Flatten', [y], `${base}/flatten`), nchw: false, rank: 2 };
    }
    case 'scale': {
      const dims = (v: Float32Array) => (x.nchw && v.length > 1 ? [v.length, 1, 1] : [v.length]);
      const y = g.node('Mul', [x.name, g.floats(`${base}/scale`, w.scale, dims(w.scale))], base);
      return { ...x, name: g.node('Add', [y, g.floats(`${base}/offset`, w.offset, dims(w.offset))], `${base}/offset`) };
    }
    case 'batchnorm': {
      if (!x.nchw || (op.axis !== -1 && op.axis !== 3))
        throw new Error(`ONNX export: batch norm on axis ${op.axis} of a ${x.rank}-D value not mapped`);
      const c = op.channels;
      const inputs = [
        x.name,
        g.floats(`${base}/gamma`, w.gamma ?? new Float32Array(c).fill(1), [c]),
        g.floats(`${base}/beta`, w.beta ?? new Float32Array(c), [c]),
        g.floats(`${base}/mean`, w.mean, [c]),
        g.floats(`${base}/var`, w.variance, [c]),
      ];
      const y = g.node('BatchNormalization', inputs, base, [attr('epsilon', op.epsilon)]);
      return { ...x, name: g.activation(y, op.activation, `${base}/act`) };
    }
    case 'activation':
      return { ...x, name: g.activation(x.name, op.activation, base) };
    case 'softmax': {
      const v = g.nhwc(x);
      return { ...v, name: g.node('Softmax', [v.name], base, [attr('axis', -1)]) };
    }
    case 'add': {
      const [a, b] = x.nchw === xs[1].nchw ? xs : [g.nhwc(x), g.nhwc(xs[1])];
      return { ...a, name: g.activation(g.node('Add', [a.name, b.name], base), op.activation, `${base}/act`) };
    }
    case 'binary':
      return exportBinary(g, op, w, xs, base);
    case 'reorg': {
      // Both modes are a 6-D transpose between reshapes of the NCHW data (see shaders/reorg.wgsl).
      // 0 keeps the (symbolic) batch axis.
      const [, h, wd, c] = shape,
        s = op.stride,
        n = 0;
      const view = op.mode === 'darknet' ? [n, c / (s * s), h, s, wd, s] : [n, c, h / s, s, wd / s, s];
      const six = g.node('Reshape', [x.name, g.ints(`${base}/view`, view)], `${base}/view`);
      const moved = g.node('Transpose', [six], `${base}/move`, [attr('perm', [0, 3, 5, 1, 2, 4])]);
      return {
        name: g.node('Reshape', [moved, g.ints(`${base}/shape`, [n, c * s * s, h / s, wd / s])], base),
        nchw: true,
        rank: 4,
      };
    }
    case 'concat':
      return {
        ...x,
        name: g.node(
          'Concat',
          xs.map((v) => v.name),
          base,
          [attr('axis', axisOf(x, op.axis))],
        ),
      };
    case 'upsample': {
      const scales = g.floats(`${base}/scales`, new Float32Array([1, 1, ...op.factors]), [4]);
      return {
        ...x,
        name: g.node('Resize', [x.name, '', scales], base, [
          attr('mode', 'nearest'),
          attr('coordinate_transformation_mode', 'asymmetric'),
          attr('nearest_mode', 'floor'),
        ]),
      };
    }
    case 'pad': {
      const [t, b, l, r] = op.pads;
      return { ...x, name: g.node('Pad', [x.name, g.ints(`${base}/pads`, [0, 0, t, l, 0, 0, b, r])], base) };
    }
    case 'slice': {
      const axis = axisOf(x, op.axis);
      const inputs = [
        x.name,
        g.ints(`${base}/starts`, [op.begin]),
        g.ints(`${base}/ends`, [op.begin + op.size]),
        g.ints(`${base}/axes`, [axis]),
      ];
      return { ...x, name: g.node('Slice', inputs, base) };
    }
    case 'reshape': {
      const v = g.nhwc(x);
      return {
        name: g.node('Reshape', [v.name, g.ints(`${base}/shape`, [0, ...op.shape])], base),
        nchw: false,
        rank: op.shape.length + 1,
      };
    }
    case 'transpose': {
      const v = g.nhwc(x);
      return { ...v, name: g.node('Transpose', [v.name], base, [attr('perm', op.perm)]) };
    }
    default:
      throw new Error(`ONNX export: op ${op.kind} not mapped`);
  }
}

const BINARY_ONNX: Record<string, string> = {
  add: 'Add',
  mul: 'Mul',
  sub: 'Sub',
  max: 'Max',
  min: 'Min',
  div: 'Div',
  prelu: 'PRelu',
};

/**
 * A broadcasting binary op. A 4-D NHWC operand carried as NCHW broadcasts the same way once both are NCHW;
 * a per-channel weight operand [C] becomes [C, 1, 1] against NCHW.
 */
function exportBinary(
  g: Builder,
  op: Extract<Node['op'], { kind: 'binary' }>,
  w: NodeWeights,
  xs: Value[],
  base: string,
): Value {
  const onnxOp = BINARY_ONNX[op.op];
  if (!onnxOp || op.batchAligned)
    throw new Error(`ONNX export: binary ${op.op}${op.batchAligned ? ' (batch-aligned)' : ''} not mapped`);
  let [a, b] = xs;
  let other: string;
  if (op.constant) other = g.floats(`${base}/c`, Float32Array.of(op.constant.value), []);
  else if (op.operandShape) {
    const dims = a.nchw && op.operandShape.length === 1 ? [op.operandShape[0], 1, 1] : op.operandShape;
    if (a.nchw && op.operandShape.length > 1)
      throw new Error(`ONNX export: binary operand [${op.operandShape}] against NCHW not mapped`);
    other = g.floats(`${base}/operand`, w.operand, dims);
  } else {
    if (a.nchw !== b.nchw) [a, b] = [g.nhwc(a), g.nhwc(b)];
    other = b.name;
  }
  const ins = op.constant?.first ? [other, a.name] : [a.name, other];
  return { ...a, name: g.activation(g.node(onnxOp, ins, base), op.activation, `${base}/act`) };
}

/** The graph as ONNX bytes with a symbolic batch axis; input and output names are the graph's. */
export function toOnnx({ graph, weights }: WeightedGraph, { maxBindingBytes = MAX_BINDING_BYTES } = {}): Uint8Array {
  const g = new Builder();
  const values = new Map<string, Value>();
  const shapes = lowerGraph(graph, 1, LOOSE_CAPS).shapes;
  for (const node of graph.nodes) {
    if (node.op.kind === 'input') {
      const rank = node.op.shape.length + 1;
      values.set(
        node.name,
        rank === 4
          ? { name: g.node('Transpose', [node.name], 'to_nchw', [attr('perm', NHWC_TO_NCHW)]), nchw: true, rank }
          : { name: node.name, nchw: false, rank },
      );
      continue;
    }
    values.set(
      node.name,
      exportNode(
        g,
        node,
        weights.get(node.name) ?? {},
        node.inputs.map((i) => values.get(i)!),
        shapes.get(node.inputs[0])!,
        maxBindingBytes,
      ),
    );
  }
  const outputs = graph.outputs.map((o) => {
    const v = g.nhwc(values.get(o)!);
    g.nodes.push({ opType: 'Identity', input: [v.name], output: [o], name: `${o}/output` });
    return { name: o, type: { tensorType: { elemType: FLOAT } } };
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'webgpu-cnn bench',
    graph: {
      name: graph.name,
      input: graph.inputs.map((name) => ({
        name,
        type: {
          tensorType: {
            elemType: FLOAT,
            shape: {
              dim: [
                { dimParam: 'N' },
                ...shapes
                  .get(name)!
                  .slice(1)
                  .map((d) => ({ dimValue: d })),
              ],
            },
          },
        },
      })),
      output: outputs,
      initializer: g.initializers,
      node: g.nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
