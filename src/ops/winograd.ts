// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions: 16 multiplies per 2×2 output tile and input
// channel instead of 36. Three calls: the input transform (V = Bᵀ d B per 4×4 tile), 16 batched GEMMs
// (M_k = V_k · U_k, with U = G g Gᵀ computed once from the weights at load), and the output transform
// (Y = Aᵀ M A, bias, activation). V and M live in two temporaries.
import { activationParams } from './activation.js';
import type { Conv2dAttrs } from './conv2d.js';
import { chooseGemmVariant, planGemm } from './gemm.js';
import { ELEMENTWISE_WG, grid1d, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';
import { windows2d } from './padding.js';

export interface WinogradPlan {
  calls: KernelCall[];
  /** Bytes of the temporaries the calls bind as 'tmp#0' (V) and 'tmp#1' (M). */
  temps: number[];
}

/** Whether a conv can use Winograd F(2×2, 3×3) here: 3×3, stride 1, no dilation, no groups. */
export function winogradApplies(x: Shape, w: Shape, attrs: Conv2dAttrs): boolean {
  const [kh, kw, , oc] = w;
  const s = attrs.strides ?? [1, 1], d = attrs.dilations ?? [1, 1];
  return kh === 3 && kw === 3 && s[0] === 1 && s[1] === 1 && d[0] === 1 && d[1] === 1 && (attrs.groups ?? 1) === 1
    && x[3] >= 32 && oc >= 32;
}

/** Each temporary holds at most this much (and one binding): large layers run in chunks of tiles. */
const TEMP_BUDGET = 16 * 1024 * 1024;

/** Output tiles of the layer, and how many go through the transforms and GEMMs at a time. */
export function winogradTiles(x: Shape, w: Shape, attrs: Conv2dAttrs, caps: DeviceCaps) {
  const [n, h, wd, c] = x;
  const win = windows2d(h, wd, [3, 3], [1, 1], [1, 1], attrs.padding ?? 'valid');
  const tilesH = Math.ceil(win.oh / 2), tilesW = Math.ceil(win.ow / 2);
  const tiles = n * tilesH * tilesW;
  const perTile = 4 * 16 * Math.max(c, w[3]);
  const chunk = Math.max(1, Math.min(tiles, Math.floor(Math.min(TEMP_BUDGET, caps.maxStorageBindingBytes) / perTile)));
  return { win, tilesH, tilesW, tiles, chunk };
}

/** Bindings: x, u (transformed weights), b → y, with temporaries tmp#0 and tmp#1. */
export function planWinograd(x: Shape, w: Shape, attrs: Conv2dAttrs, caps: DeviceCaps): WinogradPlan {
  const [, h, wd, c] = x;
  const oc = w[3];
  const { win, tilesH, tilesW, tiles, chunk } = winogradTiles(x, w, attrs, caps);
  const calls: KernelCall[] = [];
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    calls.push({
      kernel: 'winograd-input',
      spec: { WG: ELEMENTWISE_WG },
      params: { total: count * c, tile_offset: t0, h, w: wd, c, tiles_h: tilesH, tiles_w: tilesW, pad_top: win.padTop, pad_left: win.padLeft },
      workgroups: grid1d(count * c, ELEMENTWISE_WG, caps),
      bindings: ['x', 'tmp#0'],
    });
    const [gemm] = planGemm(
      { m: count, k: c, n: oc, noBias: true, batch: { count: 16, strideA: count * c, strideB: c * oc, strideC: count * oc } },
      undefined, caps, chooseGemmVariant(count, oc, caps, true),
    );
    // The GEMM reads V, binds u as B (its bias goes unread: the output transform adds it) and writes M.
    calls.push({ ...gemm, bindings: ['tmp#0', 'u', 'b', 'tmp#1'] });
    calls.push({
      kernel: 'winograd-output',
      spec: { WG: ELEMENTWISE_WG },
      params: { total: count * oc, tile_offset: t0, oh: win.oh, ow: win.ow, oc, tiles_h: tilesH, tiles_w: tilesW, ...activationParams(attrs.activation) },
      workgroups: grid1d(count * oc, ELEMENTWISE_WG, caps),
      bindings: ['tmp#1', 'b', 'y'],
    });
  }
  return { calls, temps: [4 * 16 * chunk * c, 4 * 16 * chunk * oc] };
}

/** U = G g Gᵀ for every (input, output) channel pair, from HWIO weights, as 16 matrices c × oc. */
export function winogradWeights(hwio: Float32Array, c: number, oc: number): Float32Array {
  const u = new Float32Array(16 * c * oc);
  const g = new Float64Array(9);
  const t = new Float64Array(12);
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o++) {
      for (let k = 0; k < 9; k++) g[k] = hwio[(k * c + ci) * oc + o];
      // G g, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] (4×3 from 3×3).
      for (let j = 0; j < 3; j++) {
        const [g0, g1, g2] = [g[j], g[3 + j], g[6 + j]];
        t[j] = g0;
        t[3 + j] = (g0 + g1 + g2) / 2;
        t[6 + j] = (g0 - g1 + g2) / 2;
        t[9 + j] = g2;
      }
      // (G g) Gᵀ: the same on rows, 4×4.
      for (let i = 0; i < 4; i++) {
        const [a, b, d] = [t[3 * i], t[3 * i + 1], t[3 * i + 2]];
        const row = [a, (a + b + d) / 2, (a - b + d) / 2, d];
        for (let j = 0; j < 4; j++) u[((i * 4 + j) * c + ci) * oc + o] = row[j];
      }
    }
  }
  return u;
}
