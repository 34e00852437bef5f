// Darknet's [reorg] (the old reorg permutation of yolov2's passthrough layer) and [reorg3d] (space-to-depth):
// NHWC (n, h, w, c) → (n, h/s, w/s, c·s²). shaders/reorg.wgsl says what each mode reads.
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { assertRank, ELEMENTWISE_WG, grid1d, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';

export interface ReorgOp {
  stride: number;
  /** 'darknet': [reorg] (REORG_OLD); 'space-to-depth': [reorg3d]. */
  mode: 'darknet' | 'space-to-depth';
}

function reorgOutputShape(x: Shape, { stride: s, mode }: ReorgOp): [number, number, number, number] {
  assertRank('reorg', 'input', x, 4);
  const [n, h, w, c] = x;
  if (!(Number.isInteger(s) && s >= 1) || h % s || w % s)
    throw new Error(`reorg: stride ${s} does not divide ${h}×${w}`);
  if (mode === 'darknet' && c % (s * s)) throw new Error(`reorg: stride ${s}² does not divide ${c} channels`);
  return [n, h / s, w / s, c * s * s];
}

function planReorg(x: Shape, op: ReorgOp, caps: DeviceCaps): Dispatch {
  const out = reorgOutputShape(x, op);
  const [n, h, w, c] = x;
  return {
    kernel: 'reorg',
    spec: { WG: ELEMENTWISE_WG },
    params: { n, h, w, c, s: op.stride, mode: op.mode === 'darknet' ? 0 : 1 },
    workgroups: grid1d(
      out.reduce((a, b) => a * b, 1),
      ELEMENTWISE_WG,
      caps,
    ),
    bindings: [input(0), output],
  };
}

export function lowerReorg(op: ReorgOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(reorgOutputShape(x, op), planReorg(x, op, ctx.caps));
}
