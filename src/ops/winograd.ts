// Winograd F(m×m, 3×3) for 3×3 stride-1 convolutions, m = 2 or 4: (m+2)² multiplies per m×m output
// tile and input channel instead of 9m² (2.25× fewer for m = 2, 4× for m = 4). Three calls per chunk of
// tiles: the input transform (V = Bᵀ d B per (m+2)×(m+2) tile), (m+2)² batched GEMMs (M_k = V_k · U_k,
// with U = G g Gᵀ computed once from the weights at load), and the output transform (Y = Aᵀ M A, bias,
// activation). V and M live in two scratch buffers.
import { input, output, scratch, weight, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { activationParams } from './activation.js';
import type { Conv2dAttrs } from './conv2d.js';
import { chooseGemmVariant, gemmDispatches } from './gemm.js';
import { ELEMENTWISE_WG, grid1d, type Shape } from './grid.js';
import { windows2d } from './padding.js';

export type WinogradTile = 2 | 4;

export interface WinogradPlan {
  dispatches: Dispatch[];
  /** Bytes of scratch 0 (V, the transformed input) and scratch 1 (M, the products). */
  scratch: number[];
}

/** Whether a conv can use Winograd F(2×2, 3×3) here: 3×3, stride 1, no dilation, no groups. */
export function winogradApplies(x: Shape, w: Shape, attrs: Conv2dAttrs): boolean {
  const [kh, kw, , oc] = w;
  const s = attrs.strides ?? [1, 1],
    d = attrs.dilations ?? [1, 1];
  return (
    kh === 3 &&
    kw === 3 &&
    s[0] === 1 &&
    s[1] === 1 &&
    d[0] === 1 &&
    d[1] === 1 &&
    (attrs.groups ?? 1) === 1 &&
    x[3] >= 32 &&
    oc >= 32
  );
}

/**
 * Each temporary holds at most this much (and one binding): large layers run in chunks of tiles.
 * At VGG16's first block the two temporaries sit beside two 12 MiB activations, so this sets its
 * activation peak; 6 MiB (measured against 8: no change in speed) leaves room for F(4×4) below.
 */
export const WINOGRAD_SCRATCH_BYTES = 6 * 1024 * 1024;

/**
 * F(4×4) where its weights stay small: they grow to 36/9 of the 3×3 kernel (F(2×2): 16/9), so layers
 * past 256 channels in or 512 out keep F(2×2) and VGG16 stays within its memory bound (633 MiB
 * against 635). F(4×4) on the 256→512 layers made YOLOv3 5% faster (2.25 s against 2.38 s).
 */
export function winogradTileFor(w: Shape): WinogradTile {
  return w[2] <= 256 && w[3] <= 512 ? 4 : 2;
}

/** Output tiles of the layer, and how many go through the transforms and GEMMs at a time. */
export function winogradTiles(
  x: Shape,
  w: Shape,
  attrs: Conv2dAttrs,
  caps: DeviceCaps,
  m: WinogradTile = winogradTileFor(w),
) {
  const [n, h, wd, c] = x;
  const win = windows2d(h, wd, [3, 3], [1, 1], [1, 1], attrs.padding ?? 'valid');
  const tilesH = Math.ceil(win.oh / m),
    tilesW = Math.ceil(win.ow / m);
  const tiles = n * tilesH * tilesW;
  const perTile = 4 * (m + 2) ** 2 * Math.max(c, w[3]);
  const chunk = Math.max(
    1,
    Math.min(tiles, Math.floor(Math.min(WINOGRAD_SCRATCH_BYTES, caps.maxStorageBindingBytes) / perTile)),
  );
  return { win, tilesH, tilesW, tiles, chunk };
}

/**
 * The Winograd dispatches of a conv: per chunk of tiles, the input transform (input 0 → scratch 0), the
 * batched GEMMs (scratch 0 × weight 'winograd' → scratch 1) and the output transform (scratch 1 + bias →
 * output). `residual`: 'after' adds input 1 after the activation (Darknet's shortcut), 'before' adds it
 * before (Keras's Add then activation); without it the bias fills that binding, unread.
 */
export function winogradDispatches(
  x: Shape,
  w: Shape,
  attrs: Conv2dAttrs,
  caps: DeviceCaps,
  m: WinogradTile = winogradTileFor(w),
  residual?: 'after' | 'before',
): WinogradPlan {
  const [, h, wd, c] = x;
  const oc = w[3];
  const { win, tilesH, tilesW, tiles, chunk } = winogradTiles(x, w, attrs, caps, m);
  const points = (m + 2) ** 2;
  const [inputKernel, outputKernel] =
    m === 2
      ? (['winograd-input', 'winograd-output'] as const)
      : (['winograd4-input', oc % 4 ? 'winograd4-output' : 'winograd4-output-vec4'] as const);
  const outputLanes = outputKernel === 'winograd4-output-vec4' ? 4 : 1; // channels per invocation
  const dispatches: Dispatch[] = [];
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    dispatches.push({
      kernel: inputKernel,
      spec: { WG: ELEMENTWISE_WG },
      params: {
        total: count * c,
        tile_offset: t0,
        h,
        w: wd,
        c,
        tiles_h: tilesH,
        tiles_w: tilesW,
        pad_top: win.padTop,
        pad_left: win.padLeft,
      },
      workgroups: grid1d(count * c, ELEMENTWISE_WG, caps),
      bindings: [input(0), scratch(0)],
    });
    // The GEMM reads V, binds U as B (its bias goes unread: the output transform adds it) and writes M.
    dispatches.push(
      ...gemmDispatches(
        {
          m: count,
          k: c,
          n: oc,
          noBias: true,
          batch: { count: points, strideA: count * c, strideB: c * oc, strideC: count * oc },
        },
        undefined,
        caps,
        { a: scratch(0), b: () => weight('winograd'), bias: weight('bias'), c: scratch(1) },
        chooseGemmVariant(count, oc, caps, true, c),
      ),
    );
    dispatches.push({
      kernel: outputKernel,
      spec: { WG: ELEMENTWISE_WG, RESIDUAL: residual === 'after' ? 1 : residual === 'before' ? 2 : 0 },
      params: {
        total: count * oc,
        tile_offset: t0,
        oh: win.oh,
        ow: win.ow,
        oc,
        tiles_h: tilesH,
        tiles_w: tilesW,
        ...activationParams(attrs.activation),
      },
      workgroups: grid1d((count * oc) / outputLanes, ELEMENTWISE_WG, caps),
      bindings: [scratch(1), weight('bias'), residual ? input(1) : weight('bias'), output],
    });
  }
  return { dispatches, scratch: [4 * points * chunk * c, 4 * points * chunk * oc] };
}

/** G of F(2, 3) (4×3) and F(4, 3) (6×3), row-major. */
const G: Record<WinogradTile, number[]> = {
  2: [1, 0, 0, 1 / 2, 1 / 2, 1 / 2, 1 / 2, -1 / 2, 1 / 2, 0, 0, 1],
  4: [
    1 / 4,
    0,
    0,
    -1 / 6,
    -1 / 6,
    -1 / 6,
    -1 / 6,
    1 / 6,
    -1 / 6,
    1 / 24,
    1 / 12,
    1 / 6,
    1 / 24,
    -1 / 12,
    1 / 6,
    0,
    0,
    1,
  ],
};

/**
 * U = G g Gᵀ for every (input, output) channel pair, from HWIO weights, as (m+2)² matrices c × oc
 * (float64, rounded once).
 */
export function winogradWeights(hwio: Float32Array, c: number, oc: number, m: WinogradTile = 2): Float32Array {
  const a = m + 2;
  const gm = G[m];
  const u = new Float32Array(a * a * c * oc);
  const g = new Float64Array(9);
  const t = new Float64Array(a * 3);
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o++) {
      for (let k = 0; k < 9; k++) g[k] = hwio[(k * c + ci) * oc + o];
      for (let i = 0; i < a; i++)
        for (let j = 0; j < 3; j++)
          t[i * 3 + j] = gm[i * 3] * g[j] + gm[i * 3 + 1] * g[3 + j] + gm[i * 3 + 2] * g[6 + j];
      for (let i = 0; i < a; i++)
        for (let j = 0; j < a; j++) {
          u[((i * a + j) * c + ci) * oc + o] =
            t[i * 3] * gm[j * 3] + t[i * 3 + 1] * gm[j * 3 + 1] + t[i * 3 + 2] * gm[j * 3 + 2];
        }
    }
  }
  return u;
}
