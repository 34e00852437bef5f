// Keras's Cropping2D: rows and columns off each side of NHWC (shaders/crop2d.wgsl).
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { assertRank, ELEMENTWISE_WG, grid1d, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';

/** A crop2d node: `crops` = [top, bottom, left, right], each ≥ 0. */
export interface Crop2dOp {
  crops: [number, number, number, number];
}

export function crop2dOutputShape(x: Shape, [t, b, l, r]: readonly number[]): [number, number, number, number] {
  assertRank('crop2d', 'input', x, 4);
  const [n, h, w, c] = x;
  if ([t, b, l, r].some((v) => !Number.isInteger(v) || v < 0) || t + b >= h || l + r >= w) {
    throw new Error(`crop2d: cropping [${t}, ${b}, ${l}, ${r}] leaves nothing of ${h}×${w}`);
  }
  return [n, h - t - b, w - l - r, c];
}

export function crop2dDispatch(x: Shape, crops: readonly number[], caps: DeviceCaps): Dispatch {
  const [n, oh, ow, c] = crop2dOutputShape(x, crops);
  const total = n * oh * ow * c;
  return {
    kernel: 'crop2d',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, h: x[1], w: x[2], c, oh, ow, top: crops[0], left: crops[2] },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export const lowerCrop2d = (op: Crop2dOp, ctx: LowerContext): Lowering =>
  elementwiseLowering(crop2dOutputShape(ctx.inputs[0], op.crops), crop2dDispatch(ctx.inputs[0], op.crops, ctx.caps));
