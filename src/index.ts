// Public API of webgpu-cnn.
export { GpuContext, type KernelTiming } from './gpu/context.js';
export { GpuError, TensorTooLargeError } from './gpu/errors.js';
export { Tensor } from './tensor.js';
export * as ops from './eager.js';
export type { Activation } from './ops/activation.js';
export type { Conv2dAttrs } from './ops/conv2d.js';
export type { Pool2dAttrs } from './ops/pool2d.js';
export type { Padding } from './ops/padding.js';
export { foldBatchNorm, type BatchNormParams } from './ops/batchnorm.js';
