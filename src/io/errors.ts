// Errors for bad input files live with the other error classes (src/errors.ts).
export { ModelFileError, LimitError, type FileLocation } from '../errors.js';
