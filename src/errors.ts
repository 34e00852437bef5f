// The errors the library throws on purpose, one class per kind of cause, so programs (and the CLI's exit
// codes) can tell them apart. Each carries what it concerns as properties as well as in its message.

/** Base of every error webgpu-cnn throws on purpose; anything else is a bug. */
export class WebgpuCnnError extends Error {
  override name = 'WebgpuCnnError';
}

/** A bad option or argument: a value out of range, an unknown choice, a missing or conflicting option. */
export class UsageError extends WebgpuCnnError {
  override name = 'UsageError';
  /** The option at fault (e.g. '--thresh' or 'thresh'), when there is one. */
  readonly option?: string;
  constructor(message: string, option?: string) {
    super(option ? `${option}: ${message}` : message);
    this.option = option;
  }
}

/** Where in a file the problem is, when it is known. */
export interface FileLocation {
  /** The model layer (Keras layer name, Darknet section `12_conv`). */
  layer?: string;
  /** The config field, cfg key or tensor name. */
  field?: string;
  /** 1-based line in a text file (Darknet .cfg). */
  line?: number;
}

/**
 * A file that cannot be used as given: a damaged or mismatched model, weights, image, .npy or video, or an
 * output path that cannot be written. The message starts with the file's name.
 */
export class ModelFileError extends WebgpuCnnError {
  override name = 'ModelFileError';
  readonly layer?: string;
  readonly field?: string;
  readonly line?: number;
  constructor(
    readonly file: string,
    message: string,
    where: FileLocation = {},
  ) {
    super(`${file}: ${message}`);
    this.layer = where.layer;
    this.field = where.field;
    this.line = where.line;
  }
}

/** A WebGPU validation, out-of-memory, compilation or device-lost failure, raised as an exception. */
export class GpuError extends WebgpuCnnError {
  override name = 'GpuError';
}

/** A tensor or weight that does not fit the device's buffer limits. */
export class TensorTooLargeError extends GpuError {
  override name = 'TensorTooLargeError';
}

/** A size limit that protects the process (pixels in an image, bytes in an archive entry); raise it with `option`. */
export class LimitError extends ModelFileError {
  override name = 'LimitError';
}
