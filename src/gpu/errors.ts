// GPU errors live with the other error classes (src/errors.ts).
export { GpuError, TensorTooLargeError } from '../errors.js';
