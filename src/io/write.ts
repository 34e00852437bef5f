// Writing output files (Node): through a temporary file in the same directory and a rename, so a failure
// at any point leaves either the old file or the new one, never half of one, and never the temporary.
import { ModelFileError } from '../errors.js';

/** Writes `bytes` to `path` atomically; errors name the path. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await import(/* @vite-ignore */ 'node:fs');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EISDIR'
        ? 'is a directory'
        : err.code === 'ENOENT'
          ? 'its directory does not exist'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.code === 'ENOSPC'
              ? 'no space left on the device'
              : err.message;
    throw new ModelFileError(path, `cannot write: ${why}`);
  }
}
