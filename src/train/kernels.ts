// The dispatches of the training kernels (shaders/gemm-at, bias-grad, relu-backward, dropout,
// gather-rows, softmax-xent) and of the forward GEMMs, as plain data: what the trainer binds and
// records, and what the kernel tests run one by one against float64 references.
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import type { Activation } from '../ops/activation.js';
import { defaultGemmVariant, gemmBlockCount, gemmDispatches, type GemmShape } from '../ops/gemm.js';
import { checkGrid, grid1d } from '../ops/grid.js';
import type { HeadOutput } from './head.js';

const WG = 64;

/**
 * y = act(x · W + b) (inputs: x, W, b), or with `transB` y = x · Wᵀ (inputs x, W; W fills the unread
 * bias slot).
 */
export function denseDispatch(
  m: number,
  k: number,
  n: number,
  activation: Activation | undefined,
  caps: DeviceCaps,
  transB = false,
): Dispatch {
  const shape: GemmShape = transB ? { m, k, n, transB, noBias: true } : { m, k, n };
  if (gemmBlockCount(shape, caps) > 1) throw new Error(`a ${k}×${n} dense layer is larger than one storage binding`);
  // The planner's own (or the tuned) kernel forward; a transposed, bias-free B needs the register-blocked
  // kind. The bias binding of a bias-free product is filled by W, never read.
  const io = { a: input(0), b: () => input(1), bias: input(transB ? 1 : 2), c: output };
  return (
    transB
      ? gemmDispatches(shape, activation, caps, io, defaultGemmVariant(m, n, undefined, k))
      : gemmDispatches(shape, activation, caps, io)
  )[0];
}

/** C (k×n) = Aᵀ (A m×k) · B (m×n): inputs A, B. */
export function gemmAtDispatch(m: number, k: number, n: number, caps: DeviceCaps): Dispatch {
  const tile = { TM: 4, TN: 4, WG_X: 8, WG_Y: 8 };
  return {
    kernel: 'gemm-at',
    spec: tile,
    params: { m, k, n },
    bindings: [input(0), input(1), output],
    workgroups: checkGrid(
      'gemm-at',
      [Math.ceil(n / (tile.TN * tile.WG_X)), Math.ceil(k / (tile.TM * tile.WG_Y)), 1],
      caps,
    ),
  };
}

/** db (n) = column sums of dy (m×n): input dy. */
export function biasGradDispatch(m: number, n: number, caps: DeviceCaps): Dispatch {
  return {
    kernel: 'bias-grad',
    spec: {},
    params: { m, n },
    bindings: [input(0), output],
    workgroups: checkGrid('bias-grad', [Math.ceil(n / WG), 1, 1], caps),
  };
}

/** dx = y > 0 ? dy : 0: inputs y, dy. */
export function reluBackwardDispatch(total: number, caps: DeviceCaps): Dispatch {
  return {
    kernel: 'relu-backward',
    spec: {},
    params: { total },
    bindings: [input(0), input(1), output],
    workgroups: grid1d(total, WG, caps),
  };
}

/** The kernel's integer threshold for a drop rate: element i is kept when its hash is ≥ it. */
export function dropoutThreshold(rate: number): number {
  return Math.min(0xffffffff, Math.round(rate * 2 ** 32));
}

/** y = keep(seed, i) ? x / (1 − rate) : 0 (forward on activations, backward on their gradient): input x. */
export function dropoutDispatch(total: number, rate: number, seed: number, caps: DeviceCaps): Dispatch {
  return {
    kernel: 'dropout',
    spec: {},
    bindings: [input(0), output],
    workgroups: grid1d(total, WG, caps),
    params: { total, seed: seed >>> 0, threshold: dropoutThreshold(rate), scale: 1 / (1 - rate) },
  };
}

/** y = rows idx[offset … offset + m) of x (n columns): inputs x, idx. */
export function gatherDispatch(m: number, n: number, offset: number, caps: DeviceCaps): Dispatch {
  return {
    kernel: 'gather-rows',
    spec: {},
    params: { m, n, offset },
    bindings: [input(0), input(1), output],
    workgroups: grid1d(m * n, WG, caps),
  };
}

/**
 * The loss layer over m rows of n logits: inputs z, t and the stats buffer (loss and correctness per
 * row, at rows offset…); output dz (written only with `grad`).
 */
export function lossDispatch(
  m: number,
  n: number,
  offset: number,
  mode: HeadOutput,
  grad: boolean,
  caps: DeviceCaps,
): Dispatch {
  return {
    kernel: 'softmax-xent',
    spec: { MODE: mode === 'softmax' ? 0 : 1, GRAD: grad ? 1 : 0 },
    params: { m, n, offset, scale: mode === 'softmax' ? 1 / m : 1 / (m * n) },
    bindings: [input(0), input(1), output, input(2)],
    workgroups: checkGrid('softmax-xent', [Math.ceil(m / WG), 1, 1], caps),
  };
}
