// Fine-tuning: a base's last convolutional block trained together with the head. The trunk is that
// block (convolutions with their ReLUs, max pooling) and the pooling that makes its output a code;
// its input is the frozen part's output, computed once per image and cached, so each step runs only
// the trunk and the head. Its forward passes use the inference kernels (implicit-GEMM convolution,
// pool2d, global-pool); its backward passes the kernels of conv-kernels.ts.
import { UsageError } from '../errors.js';
import type { DeviceCaps, Dispatch } from '../gpu/dispatch.js';
import { lowerConv2d } from '../ops/conv2d.js';
import { windows2d } from '../ops/padding.js';
import { planGlobalPool, planPool2d } from '../ops/pool2d.js';
import {
  convBackwardInputDispatch,
  convBackwardWeightDispatch,
  globalPoolBackwardDispatch,
  maxPoolBackwardDispatch,
} from './conv-kernels.js';

export type TrunkLayer =
  | {
      kind: 'conv';
      name: string;
      kernel: [number, number, number, number];
      strides: [number, number];
      padding: 'same' | 'valid';
      relu: boolean;
    }
  | { kind: 'maxpool'; name: string; size: [number, number]; strides: [number, number]; padding: 'same' | 'valid' };

/** The block to fine-tune: its input (the frozen part's output) and layers, then the code's pooling. */
export interface Trunk {
  input: [number, number, number];
  layers: TrunkLayer[];
  pooling: 'avg' | 'max' | 'flatten';
  /** Initial kernel (HWIO) and bias of each conv layer, in order (the base's own). */
  weights: { kernel: Float32Array; bias: Float32Array }[];
}

/** Each layer's output [h, w, c]. */
export function trunkShapes(t: Trunk): [number, number, number][] {
  let [h, w, c] = t.input;
  return t.layers.map((l) => {
    if (l.kind === 'conv') {
      if (l.kernel[2] !== c) throw new UsageError(`fine-tuning: '${l.name}' takes ${l.kernel[2]} channels, gets ${c}`);
      const g = windows2d(h, w, [l.kernel[0], l.kernel[1]], l.strides, [1, 1], l.padding);
      [h, w, c] = [g.oh, g.ow, l.kernel[3]];
    } else {
      const g = windows2d(h, w, l.size, l.strides, [1, 1], l.padding);
      [h, w] = [g.oh, g.ow];
    }
    return [h, w, c];
  });
}

/** The code length the trunk gives the head. */
export function trunkCodeLength(t: Trunk): number {
  const [h, w, c] = trunkShapes(t).at(-1) ?? t.input;
  return t.pooling === 'flatten' ? h * w * c : c;
}

/** A launch to record: a dispatch and what its bindings are, by name (inputs in order, output, weights). */
export interface TrunkLaunch {
  dispatch: Dispatch;
  inputs: string[];
  output: string;
  weights?: Record<string, string>;
}

/**
 * The trunk's forward launches over m rows, by buffer name: 'in' the cached input, 'act{i}' each layer's
 * output, 'code' the pooled code (for 'flatten' the last activation itself), 'k{i}' / 'b{i}' conv i's
 * kernel and bias.
 */
export function trunkForward(t: Trunk, m: number, caps: DeviceCaps): TrunkLaunch[] {
  const shapes = trunkShapes(t);
  const out: TrunkLaunch[] = [];
  let conv = 0;
  t.layers.forEach((l, i) => {
    const x = [m, ...(i ? shapes[i - 1] : t.input)];
    const src = i ? `act${i - 1}` : 'in';
    if (l.kind === 'conv') {
      const low = lowerConv2d(
        {
          attrs: { strides: l.strides, padding: l.padding, activation: l.relu ? { kind: 'relu' } : undefined },
          kernelShape: l.kernel,
        },
        { caps, inputs: [x], winograd: false },
      );
      // The kernel must be read as HWIO, as trained (the bias is bound as it is either way).
      if (low.scratch.length || low.weights.some((w) => w.name === 'kernel' && w.direct !== 'kernel'))
        throw new Error(`fine-tuning: '${l.name}' lowers to transformed weights`);
      for (const d of low.dispatches)
        out.push({ dispatch: d, inputs: [src], output: `act${i}`, weights: { kernel: `k${conv}`, bias: `b${conv}` } });
      conv++;
    } else {
      out.push({
        dispatch: planPool2d(x, { kind: 'max', size: l.size, strides: l.strides, padding: l.padding }, caps),
        inputs: [src],
        output: `act${i}`,
      });
    }
  });
  if (t.pooling !== 'flatten') {
    const last = [m, ...shapes[shapes.length - 1]];
    out.push({
      dispatch: planGlobalPool(last, t.pooling, caps),
      inputs: [`act${t.layers.length - 1}`],
      output: 'code',
    });
  }
  return out;
}

/**
 * The trunk's backward launches from 'dcode' (the code's gradient): 'dact{i}' each layer output's
 * gradient, 'dz{i}' after a ReLU, 'gk{i}' / 'gb{i}' conv i's kernel and bias gradients. The relu and
 * bias-grad launches come from the caller's factories (they are the head's kernels).
 */
export function trunkBackward(
  t: Trunk,
  m: number,
  caps: DeviceCaps,
  kernels: { relu(total: number): Dispatch; biasGrad(rows: number, n: number): Dispatch },
): TrunkLaunch[] {
  const shapes = trunkShapes(t);
  const out: TrunkLaunch[] = [];
  const n = t.layers.length;
  const last = [m, ...shapes[n - 1]] as [number, number, number, number];
  // With 'flatten' the code is the last activation and its gradient the code's: the caller binds them as one.
  if (t.pooling !== 'flatten') {
    out.push({
      dispatch: globalPoolBackwardDispatch(last, t.pooling, caps),
      inputs: [`act${n - 1}`, 'dcode'],
      output: `dact${n - 1}`,
    });
  }
  let conv = t.weights.length;
  for (let i = n - 1; i >= 0; i--) {
    const l = t.layers[i];
    const x = [m, ...(i ? shapes[i - 1] : t.input)] as [number, number, number, number];
    const src = i ? `act${i - 1}` : 'in';
    if (l.kind === 'maxpool') {
      if (i)
        out.push({
          dispatch: maxPoolBackwardDispatch(x, l.size, l.strides, l.padding, caps),
          inputs: [src, `dact${i}`],
          output: `dact${i - 1}`,
        });
      continue;
    }
    conv--;
    const [oh, ow, oc] = shapes[i];
    let dz = `dact${i}`;
    if (l.relu) {
      out.push({ dispatch: kernels.relu(m * oh * ow * oc), inputs: [`act${i}`, `dact${i}`], output: `dz${i}` });
      dz = `dz${i}`;
    }
    const g = { input: x, kernel: l.kernel, strides: l.strides, padding: l.padding };
    out.push({ dispatch: convBackwardWeightDispatch(g, caps), inputs: [src, dz], output: `gk${conv}` });
    out.push({ dispatch: kernels.biasGrad(m * oh * ow, oc), inputs: [dz], output: `gb${conv}` });
    if (i) out.push({ dispatch: convBackwardInputDispatch(g, caps), inputs: [dz, `k${conv}`], output: `dact${i - 1}` });
  }
  return out;
}

/**
 * The last block of a chain base, ending at `codeLayer`: the Conv2D (ReLU or linear, one group) and
 * MaxPooling2D layers back to the pooling before them, whose output (`frozen`) is the trunk's input,
 * computed once. `weights` are the base's own kernels and biases (from loadKerasGraph's weights).
 */
export function lastBlock(
  spec: import('../io/keras-config.js').KerasModelSpec,
  weights: ReadonlyMap<string, Readonly<Record<string, Float32Array>>>,
  codeLayer: string,
  inputShape: [number, number, number],
  pooling: Trunk['pooling'],
): { frozen: string; trunk: Trunk } {
  const layers = spec.layers;
  const end = layers.findIndex((l) => l.name === codeLayer);
  if (end < 0) throw new UsageError(`the base has no layer '${codeLayer}'`, '--layer');
  let start = end;
  while (start > 0 && layers[start - 1].className === 'Conv2D') start--;
  if (start === end && layers[end].className !== 'Conv2D') {
    throw new UsageError(`fine-tuning needs convolutions before '${codeLayer}' (the block to train)`, '--layer');
  }
  const frozen = layers[start - 1]?.name;
  if (!frozen || layers[start - 1].className === 'InputLayer')
    throw new UsageError('fine-tuning needs a frozen part before the last block');
  const pair = (v: unknown, d: number): [number, number] =>
    Array.isArray(v) ? [v[0], v[1]] : [Number(v ?? d), Number(v ?? d)];
  const block: TrunkLayer[] = [];
  const initial: Trunk['weights'] = [];
  for (const l of layers.slice(start, end + 1)) {
    const c = l.config;
    const padding = (c.padding ?? 'valid') as 'same' | 'valid';
    if (l.className === 'Conv2D') {
      const act = c.activation ?? 'linear';
      if (
        (c.groups ?? 1) !== 1 ||
        !['relu', 'linear'].includes(String(act)) ||
        pair(c.dilation_rate, 1).some((d) => d !== 1)
      ) {
        throw new UsageError(`fine-tuning takes plain Conv2D layers (ReLU or linear); '${l.name}' is not one`);
      }
      const w = weights.get(l.name);
      const [kh, kw] = pair(c.kernel_size, 3);
      const filters = Number(c.filters);
      if (!w?.kernel) throw new UsageError(`no weights for '${l.name}'`);
      block.push({
        kind: 'conv',
        name: l.name,
        kernel: [kh, kw, w.kernel.length / (kh * kw * filters), filters],
        strides: pair(c.strides, 1),
        padding,
        relu: act === 'relu',
      });
      initial.push({
        kernel: Float32Array.from(w.kernel),
        bias: w.bias ? Float32Array.from(w.bias) : new Float32Array(filters),
      });
    } else if (l.className === 'MaxPooling2D') {
      const size = pair(c.pool_size, 2);
      block.push({ kind: 'maxpool', name: l.name, size, strides: c.strides ? pair(c.strides, 2) : size, padding });
    } else {
      throw new UsageError(`fine-tuning takes Conv2D and MaxPooling2D layers; '${l.name}' is a ${l.className}`);
    }
  }
  return { frozen, trunk: { input: inputShape, layers: block, pooling, weights: initial } };
}
