// Bytes from wherever a user has them: a path (Node), a URL (fetched in browsers, read in Node for
// file: URLs), a File/Blob, an ArrayBuffer or a Uint8Array.
import { ModelFileError } from './errors.js';

export type ByteSource = string | URL | Uint8Array | ArrayBuffer | Blob;

export { isNode } from '../env.js';
import { isNode } from '../env.js';

/** A name for messages: the path or URL, else `fallback`. */
export function sourceName(source: ByteSource, fallback: string): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof Blob !== 'undefined' && source instanceof Blob && 'name' in source) return String((source as File).name);
  return fallback;
}

export async function readBytes(source: ByteSource, name = sourceName(source, 'data')): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  const url = source instanceof URL ? source : undefined;
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = await import(/* @vite-ignore */ 'node:fs');
    const path = url ? (await import(/* @vite-ignore */ 'node:url')).fileURLToPath(url) : (source as string);
    if (!fs.existsSync(path)) throw new ModelFileError(name, 'no such file');
    if (fs.statSync(path).isDirectory()) throw new ModelFileError(name, 'is a directory, not a file');
    try {
      return new Uint8Array(fs.readFileSync(path));
    } catch (e) {
      throw new ModelFileError(name, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let res: Response;
  try {
    res = await fetch(source as string | URL);
  } catch (e) {
    throw new ModelFileError(name, `cannot fetch: ${(e as Error).message}`);
  }
  if (!res.ok)
    throw new ModelFileError(name, res.status === 404 ? 'no such file (HTTP 404)' : `fetch failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Text from a source; a string holding a newline is the text itself (a cfg or names list pasted in). */
export async function readText(source: ByteSource, what: string): Promise<{ text: string; name: string }> {
  if (typeof source === 'string' && source.includes('\n')) return { text: source, name: what };
  const name = sourceName(source, what);
  return { text: new TextDecoder().decode(await readBytes(source, name)), name };
}
