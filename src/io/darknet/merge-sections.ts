// Darknet sections that combine earlier layers' outputs: [route] (concatenation, with per-input channel
// groups), [shortcut] (weighted sums of several layers), [scale_channels] and [sam] (products). They become
// the graph's concat/slice, add and broadcasting binary nodes; none needs a kernel of its own.
import type { Op } from '../../graph/ir.js';
import { activationOf } from './activations.js';
import type { Options } from './cfg.js';
import type { NodeBuilder, SectionHandler, Shape3 } from './section-types.js';

const size = (s: Shape3) => `${s.w}×${s.h}×${s.c}`;

/**
 * Concatenates `layers` along channels. With groups/group_id each input contributes its own slice, channels
 * [group_id·C_k/groups, (group_id+1)·C_k/groups) of input k (route_layer.c: a block of each input's outputs);
 * for several inputs that differs from slicing the concatenation.
 */
export const route: SectionHandler = {
  keys: ['layers', 'groups', 'group_id'],
  ignored: [],
  plan(o, at) {
    const from = at.layers('layers', true);
    const shapes = from.map((j) => at.shapeOf(j));
    if (shapes.some((f) => f.h !== shapes[0].h || f.w !== shapes[0].w)) {
      o.error('layers', `concatenates layers of different sizes (${shapes.map((f) => `${f.w}×${f.h}`).join(', ')})`);
    }
    const groups = o.int('groups', 1, { min: 1 }),
      groupId = o.int('group_id', 0, { min: 0 });
    const uneven = shapes.findIndex((f) => f.c % groups);
    if (uneven >= 0 || groupId >= groups) {
      const c = uneven >= 0 ? shapes[uneven].c : shapes[0].c;
      const which = uneven >= 0 ? ` (layer ${from[uneven]})` : '';
      o.error('groups', `cannot take group ${groupId} of ${groups} from ${c} channels${which}`);
    }
    const c = shapes.reduce((sum, f) => sum + f.c / groups, 0);
    return {
      shape: { h: shapes[0].h, w: shapes[0].w, c },
      weightCount: 0,
      build(b) {
        const single = from.length === 1;
        const parts = from.map((j, k) => {
          if (groups === 1) return b.nodeOf(j);
          const part = shapes[k].c / groups;
          const name = single ? b.name : `${b.name}/group${k}`;
          return b.add({ kind: 'slice', axis: -1, begin: part * groupId, size: part }, [b.nodeOf(j)], name);
        });
        if (single && groups === 1) b.add({ kind: 'identity' }, parts);
        else if (!single) b.add({ kind: 'concat', axis: -1 }, parts);
      },
    };
  },
};

type WeightsType = 'none' | 'per_feature' | 'per_channel';
type Normalization = 'none' | 'relu' | 'softmax';

function choice<T extends string>(o: Options, key: string, table: Record<string, T>): T {
  const v = o.str(key, 'none');
  if (!(v in table)) o.error(key, `'${v}' is not one of ${Object.keys(table).join(', ')}`);
  return table[v];
}

/**
 * The shortcut's weights as detector test runs them: fuse_conv_batchnorm normalises them once at load, per
 * channel (or per feature) across the n+1 inputs, with relu as max(w, 0.001) and a 0.0001 in each sum.
 * Returns the weights for input i (0 = the previous layer) at `step`-strided entries.
 */
function normalizeShortcutWeights(w: Float32Array, inputs: number, how: Normalization): Float32Array {
  if (how === 'none') return w;
  const step = w.length / inputs;
  const out = new Float32Array(w.length);
  for (let ch = 0; ch < step; ch++) {
    const vals = Array.from({ length: inputs }, (_, i) => w[i * step + ch]);
    const max = Math.max(...vals);
    const r = vals.map((v) => (how === 'relu' ? (v > 0.001 ? v : 0.001) : Math.fround(Math.exp(v - max))));
    const sum = r.reduce((s, v) => Math.fround(s + v), 0.0001);
    r.forEach((v, i) => {
      out[i * step + ch] = v / sum;
    });
  }
  return out;
}

/**
 * out = in·w₀ + Σ_k from_k·w_k, then the activation (shortcut_multilayer_cpu). A from-layer must have the
 * input's size; with fewer channels it adds into the first ones, with more only its first C count (AlexeyAB
 * adds element by element in NCHW memory order, which is that for equal sizes). Weights: none, one per input
 * (per_feature/per_layer), or one per input and channel (per_channel).
 */
export const shortcut: SectionHandler = {
  keys: ['from', 'activation', 'weights_type', 'weights_normalization'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const from = at.layers('from', true);
    const shapes = from.map((j) => at.shapeOf(j));
    shapes.forEach((f, k) => {
      if (f.h !== x.h || f.w !== x.w) {
        o.error('from', `adds layer ${from[k]} (${size(f)}) to ${size(x)}; the sizes must match (channels may differ)`);
      }
    });
    const type = choice<WeightsType>(o, 'weights_type', {
      none: 'none',
      per_feature: 'per_feature',
      per_layer: 'per_feature',
      per_channel: 'per_channel',
    });
    const norm = choice<Normalization>(o, 'weights_normalization', {
      none: 'none',
      relu: 'relu',
      avg_relu: 'relu',
      softmax: 'softmax',
    });
    if (norm !== 'none' && type === 'none')
      o.error('weights_normalization', 'normalises weights, but weights_type is none');
    const activation = activationOf(o, 'linear', 'shortcut');
    const inputs = from.length + 1;
    const weightCount = type === 'none' ? 0 : type === 'per_feature' ? inputs : inputs * x.c;
    return {
      shape: x,
      weightCount,
      build(b) {
        const w = weightCount ? normalizeShortcutWeights(b.take(weightCount, 'weights'), inputs, norm) : undefined;
        const step = w ? w.length / inputs : 0;
        /** Input i's values, scaled by its weights, over `c` channels. */
        const term = (node: string, i: number, c: number, name: string): string => {
          if (!w) return node;
          const op: Op =
            type === 'per_feature'
              ? { kind: 'binary', op: 'mul', constant: { value: w[i * step] } }
              : { kind: 'binary', op: 'mul', operandShape: [c] };
          const operand = type === 'per_channel' ? { operand: w.slice(i * step, i * step + c) } : undefined;
          return b.add(op, [node], name, operand);
        };
        if (!w && from.length === 1 && shapes[0].c === x.c) {
          b.add({ kind: 'add', activation }, [b.nodeOf(at.index - 1), b.nodeOf(from[0])]);
          return;
        }
        let acc = term(b.nodeOf(at.index - 1), 0, x.c, `${b.name}/w0`);
        from.forEach((j, k) => {
          const last = k === from.length - 1;
          const c = Math.min(shapes[k].c, x.c);
          let src = b.nodeOf(j);
          if (shapes[k].c > x.c)
            src = b.add({ kind: 'slice', axis: -1, begin: 0, size: c }, [src], `${b.name}/from${k}`);
          const t = term(src, k + 1, c, `${b.name}/w${k + 1}`);
          if (c === x.c) {
            const name = last ? b.name : `${b.name}/add${k}`;
            acc = b.add({ kind: 'add', activation: last ? activation : undefined }, [acc, t], name);
            return;
          }
          // Fewer channels: add into the first c, keep the rest.
          const head = b.add({ kind: 'slice', axis: -1, begin: 0, size: c }, [acc], `${b.name}/head${k}`);
          const tail = b.add({ kind: 'slice', axis: -1, begin: c, size: x.c - c }, [acc], `${b.name}/tail${k}`);
          const sum = b.add({ kind: 'add' }, [head, t], `${b.name}/add${k}`);
          const lin = last && activation.kind === 'linear';
          acc = b.add({ kind: 'concat', axis: -1 }, [sum, tail], lin ? b.name : `${b.name}/cat${k}`);
          if (last && !lin) b.add({ kind: 'activation', activation }, [acc]);
        });
      },
    };
  },
};

/**
 * out[c][y][x] = in[c]·from[c][y][x] (squeeze-and-excite), or with scale_wh=1 in[y][x]·from[c][y][x];
 * the output has the from-layer's shape.
 */
export const scaleChannels: SectionHandler = {
  keys: ['from', 'scale_wh', 'activation'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const [from] = at.layers('from', true);
    if (at.layers('from').length > 1) o.error('from', 'takes one layer');
    const f = at.shapeOf(from);
    const wh = o.int('scale_wh', 0) !== 0;
    const fits = wh ? x.c === 1 && x.h === f.h && x.w === f.w : x.h === 1 && x.w === 1 && x.c === f.c;
    if (!fits) {
      const needs = wh ? 'scale_wh=1 needs 1 channel of the same size' : `it needs 1×1×${f.c}`;
      o.error('from', `scales layer ${from} (${size(f)}) by ${size(x)}; ${needs}`);
    }
    const activation = activationOf(o, 'linear', 'generic');
    return {
      shape: f,
      weightCount: 0,
      build: (b: NodeBuilder) =>
        b.add({ kind: 'binary', op: 'mul', activation }, [b.nodeOf(from), b.nodeOf(at.index - 1)]),
    };
  },
};

/** Spatial attention: out = in ⊙ from, element by element (same shapes), then the activation. */
export const sam: SectionHandler = {
  keys: ['from', 'activation'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const [from] = at.layers('from', true);
    if (at.layers('from').length > 1) o.error('from', 'takes one layer');
    const f = at.shapeOf(from);
    if (f.h !== x.h || f.w !== x.w || f.c !== x.c) {
      o.error('from', `multiplies layer ${from} (${size(f)}) by ${size(x)}; the sizes must match`);
    }
    const activation = activationOf(o, 'linear', 'generic');
    return {
      shape: f,
      weightCount: 0,
      build: (b) => b.add({ kind: 'binary', op: 'mul', activation }, [b.nodeOf(at.index - 1), b.nodeOf(from)]),
    };
  },
};
