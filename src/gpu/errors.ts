/** A WebGPU validation, out-of-memory, compilation or device-lost failure, raised as an exception. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** A tensor or weight that does not fit the device's buffer limits. */
export class TensorTooLargeError extends Error {
  override name = 'TensorTooLargeError';
}
