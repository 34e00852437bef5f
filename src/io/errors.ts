// Errors for bad input files: each names the file and, where known, the layer or field at fault.
export class ModelFileError extends Error {
  override name = 'ModelFileError';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}
