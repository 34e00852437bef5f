// Where a command's output files go, decided and checked before any model is loaded: the directory must
// exist and be writable, the extension says the format (and an unknown one is refused), and `--out` naming
// an existing directory writes inside it. Writing itself goes through writeFileAtomic (no partial files).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ModelFileError, UsageError } from '../errors.js';
import { imageFormatOf } from '../io/image.js';

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** Throws unless files can be created in `dir`. */
export function checkWritableDirectory(dir: string, forFile: string): void {
  if (!existsSync(dir)) throw new ModelFileError(forFile, `cannot write: directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new ModelFileError(forFile, `cannot write: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ModelFileError(forFile, `cannot write: directory ${dir} is not writable`);
  }
}

/** Throws unless `path` can be written as a file (its directory exists and is writable; it is not a directory). */
export function checkWritableFile(path: string): void {
  if (isDirectory(path)) throw new ModelFileError(path, 'cannot write: is a directory');
  checkWritableDirectory(dirname(path) || '.', path);
}

/** NAME_detections.png for a PNG input, NAME_detections.jpg for anything else. */
function annotatedName(input: string): string {
  const ext = extname(input).toLowerCase() === '.png' ? '.png' : '.jpg';
  return `${basename(input, extname(input))}_detections${ext}`;
}

/**
 * The annotated image path for each input: next to it without `--out`; inside `--out` when it is a
 * directory (it must be one, existing or to be made, for several inputs); `--out` itself for one input.
 * Checked now: directories exist and are writable, and every extension is .jpg, .jpeg or .png.
 */
export function imageOutputs(inputs: string[], out: string | undefined): { paths: string[]; makeDirectory?: string } {
  if (!out) {
    const paths = inputs.map((f) => join(dirname(f), annotatedName(f)));
    paths.forEach(checkWritableFile);
    return { paths };
  }
  if (isDirectory(out)) {
    checkWritableDirectory(out, out);
    return { paths: inputs.map((f) => join(out, annotatedName(f))) };
  }
  if (inputs.length > 1) {
    if (extname(out)) {
      throw new UsageError(
        `'${out}' is a file name, but ${inputs.length} images give ${inputs.length} outputs: give a directory`,
        '--out',
      );
    }
    checkWritableDirectory(dirname(out) || '.', out);
    return { paths: inputs.map((f) => join(out, annotatedName(f))), makeDirectory: out };
  }
  imageFormatOf(out);
  checkWritableFile(out);
  return { paths: [out] };
}

/** A `.npy` output path (inside it, named after `input`, when `out` is an existing directory), checked now. */
export function npyOutput(out: string, input: string): string {
  const path = isDirectory(out) ? join(out, `${basename(input, extname(input))}.npy`) : out;
  if (extname(path).toLowerCase() !== '.npy')
    throw new UsageError(`'${out}' must end in .npy (arrays are written as NumPy .npy)`, '--out');
  checkWritableFile(path);
  return path;
}
