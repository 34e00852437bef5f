// HDF5 through h5wasm (the HDF5 C library compiled to wasm). In Node it reads the file lazily from
// disk by path; bytes (a .keras archive's inner file) go through a temporary file. Everything the
// Keras loaders need is here: attributes as strings or string lists, groups, float32 datasets.
import { ModelFileError } from './errors.js';
import { isNode } from './source.js';

type H5Module = typeof import('h5wasm');
type H5Group = import('h5wasm').Group;
type H5Dataset = import('h5wasm').Dataset;

let h5: Promise<H5Module> | undefined;

interface MemFs {
  writeFile(path: string, data: Uint8Array): void;
  unlink(path: string): void;
}
let memfs: MemFs | undefined;

async function loadH5wasm(): Promise<H5Module> {
  // The browser bundle maps 'h5wasm/node' to nothing (scripts/build.mjs); only Node takes that branch.
  const mod = (isNode ? await import('h5wasm/node') : await import('h5wasm')) as unknown as { default: H5Module };
  const lib = mod.default;
  const module = await lib.ready;
  memfs = (module as unknown as { FS: MemFs }).FS;
  // HDF5 errors become exceptions carrying the library's own diagnosis, instead of text on stderr.
  module.activate_throwing_error_handler();
  return lib;
}

/** The most specific line of an HDF5 error stack ("truncated file: eof = …"), or the message itself. */
function hdf5Reason(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const frames = [...text.matchAll(/#\d+: .*? in (\w+)\(\): (.*)/g)];
  return frames.length ? frames[frames.length - 1][2] : text.split('\n')[0];
}

export interface Float32Dataset {
  shape: number[];
  data: Float32Array;
}

export class Hdf5File {
  private constructor(
    private readonly file: import('h5wasm').File,
    readonly name: string,
    private readonly cleanup: () => void,
  ) {}

  /**
   * Opens a file by path (Node) or from its bytes; `name` is used in error messages. `onClose` runs when
   * the file is closed (or fails to open), e.g. to remove a temporary file.
   */
  static async open(
    source: string | Uint8Array,
    name = typeof source === 'string' ? source : 'HDF5 data',
    onClose = () => {},
  ): Promise<Hdf5File> {
    const lib = await (h5 ??= loadH5wasm());
    let path: string;
    let cleanup = onClose;
    if (typeof source === 'string') {
      path = source;
      const fs = await import(/* @vite-ignore */ 'node:fs');
      if (!fs.existsSync(path)) throw new ModelFileError(name, 'no such file');
      if (fs.statSync(path).isDirectory()) throw new ModelFileError(name, 'is a directory, not a file');
    } else {
      const temporary = isNode ? await writeTemporary(source) : writeMemfs(source);
      path = temporary.path;
      cleanup = () => {
        temporary.cleanup();
        onClose();
      };
    }
    let file: import('h5wasm').File | undefined;
    try {
      file = new lib.File(path, 'r');
      if (file.file_id < 0n) throw new Error('not an HDF5 file');
    } catch (e) {
      cleanup();
      throw new ModelFileError(name, `cannot open as HDF5: ${hdf5Reason(e)}`);
    }
    return new Hdf5File(file, name, cleanup);
  }

  private entity(path: string): ReturnType<H5Group['get']> {
    try {
      return this.file.get(path);
    } catch (e) {
      throw new ModelFileError(this.name, `reading '${path}': ${hdf5Reason(e)}`);
    }
  }

  has(path: string): boolean {
    return this.entity(path) != null;
  }

  isGroup(path: string): boolean {
    return (this.entity(path) as { type?: string } | null)?.type === 'Group';
  }

  keys(path = '/'): string[] {
    const g = this.entity(path) as H5Group | null;
    if (!g || (g as { type?: string }).type !== 'Group') throw new ModelFileError(this.name, `no group '${path}'`);
    return g.keys();
  }

  attrNames(path = '/'): string[] {
    const e = this.entity(path);
    return e && 'attrs' in e ? Object.keys(e.attrs) : [];
  }

  /** An attribute's value; undefined when absent. */
  attr(path: string, name: string): unknown {
    const e = this.entity(path);
    if (!e || !('attrs' in e)) return undefined;
    try {
      const attrs = e.attrs;
      return name in attrs ? attrs[name].value : undefined;
    } catch (err) {
      throw new ModelFileError(this.name, `attribute '${name}' of '${path}': ${hdf5Reason(err)}`);
    }
  }

  /** A string attribute (fixed or variable length; bytes decoded as UTF-8). */
  stringAttr(path: string, name: string): string | undefined {
    const v = this.attr(path, name);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
    throw new ModelFileError(this.name, `attribute '${name}' of '${path}' is not a string`);
  }

  /**
   * A list-of-strings attribute (Keras's layer_names/weight_names). An empty numeric array (how h5py
   * writes an empty list) reads as []. Lists Keras split into name0, name1, … are joined.
   */
  stringListAttr(path: string, name: string): string[] | undefined {
    let v = this.attr(path, name);
    if (v === undefined && this.attr(path, `${name}0`) !== undefined) {
      const parts: unknown[] = [];
      for (let i = 0; this.attr(path, `${name}${i}`) !== undefined; i++)
        parts.push(...toList(this.attr(path, `${name}${i}`)));
      v = parts;
    }
    if (v === undefined) return undefined;
    const list = toList(v);
    if (list.some((s) => typeof s !== 'string')) {
      if (list.length === 0) return [];
      throw new ModelFileError(this.name, `attribute '${name}' of '${path}' is not a list of strings`);
    }
    return list as string[];
  }

  /** A dataset's shape, without reading its values. */
  shapeOf(path: string): number[] {
    const d = this.entity(path) as H5Dataset | null;
    if (!d || (d as { type?: string }).type !== 'Dataset') throw new ModelFileError(this.name, `no dataset '${path}'`);
    return d.shape ?? [];
  }

  /** A float dataset as float32 (float64 is narrowed; other types are rejected). */
  dataset(path: string): Float32Dataset {
    const d = this.entity(path) as H5Dataset | null;
    if (!d || (d as { type?: string }).type !== 'Dataset') throw new ModelFileError(this.name, `no dataset '${path}'`);
    let value: unknown;
    try {
      value = d.value;
    } catch (e) {
      throw new ModelFileError(this.name, `reading dataset '${path}': ${hdf5Reason(e)}`);
    }
    const shape = d.shape ?? [];
    if (value instanceof Float32Array) return { shape, data: value };
    if (value instanceof Float64Array) return { shape, data: Float32Array.from(value) };
    // Integer datasets (Normalization's int64 `count`, a scalar) read as numbers; no weight is one.
    if (typeof value === 'number' || typeof value === 'bigint') return { shape, data: Float32Array.of(Number(value)) };
    if (value instanceof BigInt64Array || value instanceof Int32Array)
      return { shape, data: Float32Array.from(value, Number) };
    throw new ModelFileError(this.name, `dataset '${path}' has type ${d.dtype}, expected float32 or float64`);
  }

  close(): void {
    try {
      this.file.close();
    } finally {
      this.cleanup();
    }
  }
}

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return [v];
}

let memfsCount = 0;

/** In browsers the bytes go into h5wasm's in-memory file system. */
function writeMemfs(bytes: Uint8Array): { path: string; cleanup: () => void } {
  const fs = memfs!;
  const path = `/webgpu-cnn-${++memfsCount}.h5`;
  fs.writeFile(path, bytes);
  return { path, cleanup: () => fs.unlink(path) };
}

async function writeTemporary(bytes: Uint8Array): Promise<{ path: string; cleanup: () => void }> {
  const [fs, os, pathMod] = await Promise.all([
    import(/* @vite-ignore */ 'node:fs'),
    import(/* @vite-ignore */ 'node:os'),
    import(/* @vite-ignore */ 'node:path'),
  ]);
  const dir = fs.mkdtempSync(pathMod.join(os.tmpdir(), 'webgpu-cnn-'));
  const path = pathMod.join(dir, 'data.h5');
  fs.writeFileSync(path, bytes);
  return { path, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
