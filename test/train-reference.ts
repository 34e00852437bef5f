// An independent float64 implementation of head training, for the tests: plain loops over Float64Arrays
// with no tiling, the formulas written out from Keras 3's sources (Dense, Dropout, softmax and sigmoid
// cross-entropy from logits, SGD, Adam, RMSprop) and the dropout hash written again from its paper.
// Only the run's definition is shared with the code under test: the initial weights, the shuffle order
// and the dropout seeds (src/train: initHead, epochOrder, dropoutSeed).

/** PCG-RXS-M-XS (Jarzynski & Olano 2020), on u32 with explicit wrap-around. */
export function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) & 31)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export function keepMask(total: number, seed: number, rate: number): Uint8Array {
  const threshold = Math.min(0xffffffff, Math.round(rate * 2 ** 32));
  const s = pcg(seed);
  return Uint8Array.from({ length: total }, (_, i) => (pcg((i ^ s) >>> 0) >= threshold ? 1 : 0));
}

export interface RefLayer {
  kernel: Float64Array;
  bias: Float64Array;
  inputs: number;
  units: number;
}

/** y = x·W + b over m rows. */
export function refDense(x: Float64Array, m: number, l: RefLayer): Float64Array {
  const y = new Float64Array(m * l.units);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < l.units; j++) {
      let s = l.bias[j];
      for (let k = 0; k < l.inputs; k++) s += x[i * l.inputs + k] * l.kernel[k * l.units + j];
      y[i * l.units + j] = s;
    }
  }
  return y;
}

/** Per-row loss and correctness from logits, as Keras computes them for a softmax or sigmoid output. */
export function refLoss(z: Float64Array, t: ArrayLike<number>, m: number, n: number, mode: 'softmax' | 'sigmoid') {
  const loss = new Float64Array(m),
    correct = new Float64Array(m),
    grad = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = Array.from(z.subarray(i * n, (i + 1) * n));
    const tr = Array.from({ length: n }, (_, j) => t[i * n + j]);
    if (mode === 'softmax') {
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      loss[i] = tr.reduce((s, tj, j) => s + tj * (lse - row[j]), 0);
      correct[i] = row.indexOf(max) === tr.indexOf(Math.max(...tr)) ? 1 : 0;
      row.forEach((v, j) => {
        grad[i * n + j] = (Math.exp(v - lse) - tr[j]) / m;
      });
    } else {
      loss[i] = row.reduce((s, v, j) => s + Math.max(v, 0) - v * tr[j] + Math.log1p(Math.exp(-Math.abs(v))), 0) / n;
      correct[i] = row.reduce((s, v, j) => s + (v > 0 === tr[j] > 0.5 ? 1 : 0), 0) / n;
      row.forEach((v, j) => {
        grad[i * n + j] = (1 / (1 + Math.exp(-v)) - tr[j]) / (m * n);
      });
    }
  }
  return { loss, correct, grad };
}

export interface RefOptimizer {
  kind: 'sgd' | 'adam' | 'rmsprop';
  lr: number;
  momentum?: number;
  nesterov?: boolean;
}

/** One optimiser step on w (in place), Keras 3's update_step in float64; `state` holds its slots. */
export function refUpdate(
  o: RefOptimizer,
  w: Float64Array,
  g: Float64Array,
  state: Float64Array[],
  step: number,
): void {
  const [a, b] = state;
  for (let i = 0; i < w.length; i++) {
    if (o.kind === 'sgd') {
      const mom = o.momentum ?? 0;
      if (!mom) w[i] -= o.lr * g[i];
      else {
        a[i] = a[i] * mom - g[i] * o.lr;
        w[i] += o.nesterov ? a[i] * mom - g[i] * o.lr : a[i];
      }
    } else if (o.kind === 'adam') {
      const b1 = 0.9,
        b2 = 0.999,
        eps = 1e-7;
      const alpha = (o.lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
      a[i] += (g[i] - a[i]) * (1 - b1);
      b[i] += (g[i] * g[i] - b[i]) * (1 - b2);
      w[i] -= (a[i] * alpha) / (Math.sqrt(b[i]) + eps);
    } else {
      a[i] = 0.9 * a[i] + 0.1 * g[i] * g[i];
      w[i] -= (o.lr * g[i]) / Math.sqrt(a[i] + 1e-7);
    }
  }
}

export interface RefRun {
  layers: RefLayer[];
  mode: 'softmax' | 'sigmoid';
  dropout: number;
  optimizer: RefOptimizer;
  features: ArrayLike<number>;
  targets: ArrayLike<number>;
  rows: number;
  batch: number;
  epochs: number;
  /** The shuffle of each epoch and the dropout seed of (step, layer), from the run's definition. */
  order: (epoch: number) => Uint32Array;
  seedOf: (step: number, layer: number) => number;
}

/** Trains in float64 exactly as the GPU trainer is specified; returns per-epoch mean loss and accuracy. */
export function refTrain(run: RefRun): { history: { loss: number; accuracy: number }[]; layers: RefLayer[] } {
  const { layers, rows, batch } = run;
  const nIn = layers[0].inputs,
    nOut = layers[layers.length - 1].units;
  const states = layers.map((l) =>
    [0, 1].map(() => ({ k: new Float64Array(l.kernel.length), b: new Float64Array(l.units) })),
  );
  const history: { loss: number; accuracy: number }[] = [];
  let step = 0;
  for (let e = 1; e <= run.epochs; e++) {
    const order = run.order(e);
    let lossSum = 0,
      correctSum = 0;
    for (let start = 0; start < rows; start += batch) {
      step++;
      const m = Math.min(batch, rows - start);
      const x = new Float64Array(m * nIn),
        t = new Float64Array(m * nOut);
      for (let i = 0; i < m; i++) {
        const r = order[start + i];
        for (let k = 0; k < nIn; k++) x[i * nIn + k] = run.features[r * nIn + k];
        for (let k = 0; k < nOut; k++) t[i * nOut + k] = run.targets[r * nOut + k];
      }
      // Forward: the input of each layer, the ReLU outputs, the dropout masks.
      const inputs: Float64Array[] = [x],
        relus: Float64Array[] = [],
        masks: Uint8Array[] = [];
      let a: Float64Array = x;
      layers.forEach((l, li) => {
        let y: Float64Array = refDense(a, m, l);
        if (li === layers.length - 1) {
          a = y;
          return;
        }
        y = y.map((v) => Math.max(v, 0));
        relus.push(y);
        if (run.dropout > 0) {
          const mask = keepMask(y.length, run.seedOf(step, li), run.dropout);
          masks.push(mask);
          y = y.map((v, i) => (mask[i] ? v / (1 - run.dropout) : 0));
        }
        inputs.push(y);
        a = y;
      });
      const { loss, correct, grad } = refLoss(a, t, m, nOut, run.mode);
      loss.forEach((v) => {
        lossSum += v;
      });
      correct.forEach((v) => {
        correctSum += v;
      });
      // Backward, output first; then every layer's update.
      let g: Float64Array = grad;
      const grads: { k: Float64Array; b: Float64Array }[] = [];
      for (let li = layers.length - 1; li >= 0; li--) {
        const l = layers[li],
          input = inputs[li];
        const gk = new Float64Array(l.inputs * l.units),
          gb = new Float64Array(l.units);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < l.units; j++) {
            gb[j] += g[i * l.units + j];
            for (let k = 0; k < l.inputs; k++) gk[k * l.units + j] += input[i * l.inputs + k] * g[i * l.units + j];
          }
        }
        grads[li] = { k: gk, b: gb };
        if (li === 0) break;
        const gx = new Float64Array(m * l.inputs);
        for (let i = 0; i < m; i++) {
          for (let k = 0; k < l.inputs; k++) {
            let s = 0;
            for (let j = 0; j < l.units; j++) s += g[i * l.units + j] * l.kernel[k * l.units + j];
            const mask = masks[li - 1];
            if (mask) s = mask[i * l.inputs + k] ? s / (1 - run.dropout) : 0;
            gx[i * l.inputs + k] = relus[li - 1][i * l.inputs + k] > 0 ? s : 0;
          }
        }
        g = gx;
      }
      layers.forEach((l, li) => {
        refUpdate(
          run.optimizer,
          l.kernel,
          grads[li].k,
          states[li].map((s) => s.k),
          step,
        );
        refUpdate(
          run.optimizer,
          l.bias,
          grads[li].b,
          states[li].map((s) => s.b),
          step,
        );
      });
    }
    history.push({ loss: lossSum / rows, accuracy: correctSum / rows });
  }
  return { history, layers };
}

/** TensorFlow's padding along one axis: [out, before]. */
export function axis(size: number, k: number, s: number, d: number, same: boolean): [number, number] {
  const span = (k - 1) * d + 1;
  if (!same) return [Math.floor((size - span) / s) + 1, 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + span - size, 0) / 2)];
}

export interface Conv {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  oc: number;
  s: number;
  d: number;
  same: boolean;
}

export function refConv(x: Float64Array, k: Float64Array, g: Conv): Float64Array {
  const [oh, pt] = axis(g.h, g.kh, g.s, g.d, g.same),
    [ow, pl] = axis(g.w, g.kw, g.s, g.d, g.same);
  const y = new Float64Array(g.n * oh * ow * g.oc);
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < g.oc; o++) {
          let s = 0;
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const yy = oy * g.s + i * g.d - pt,
                xx = ox * g.s + j * g.d - pl;
              if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
              for (let c = 0; c < g.c; c++)
                s += x[((n * g.h + yy) * g.w + xx) * g.c + c] * k[((i * g.kw + j) * g.c + c) * g.oc + o];
            }
          y[((n * oh + oy) * ow + ox) * g.oc + o] = s;
        }
      }
  return y;
}

export function refMaxPool(x: Float64Array, [n, h, w, c]: number[], k: number, s: number, same: boolean): Float64Array {
  const [oh, pt] = axis(h, k, s, 1, same),
    [ow, pl] = axis(w, k, s, 1, same);
  const y = new Float64Array(n * oh * ow * c).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const yy = oy * s + i - pt,
                xx = ox * s + j - pl;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                const at = ((b * oh + oy) * ow + ox) * c + ch;
                y[at] = Math.max(y[at], x[((b * h + yy) * w + xx) * c + ch]);
              }
            }
        }
  return y;
}
