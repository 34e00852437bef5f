// Typed access to one Keras layer's config, so that every field is checked where it is read: a missing
// required field, a wrong type (`"strides": "abc"`), or an impossible value (strides 0) fails with the
// field's name, which convertLayer turns into an error naming the file and the layer.

/** A problem with one layer; `field` is the config key at fault, when there is one. */
export class LayerError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

export class ConfigReader {
  constructor(readonly config: Json) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  raw(key: string): unknown {
    return this.config[key];
  }

  fail(key: string, message: string): never {
    throw new LayerError(`${key} ${message}`, key);
  }

  /** An integer (required when no fallback), within [min, max]. */
  int(key: string, fallback?: number, range: { min?: number; max?: number } = {}): number {
    const v = this.config[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `${show(v)} is not an integer`);
    this.inRange(key, v, range);
    return v;
  }

  /** A finite number (required when no fallback), within [min, max]. */
  number(key: string, fallback?: number, range: { min?: number; max?: number } = {}): number {
    const v = this.config[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `${show(v)} is not a number`);
    this.inRange(key, v, range);
    return v;
  }

  /** A number, or null/absent for none (e.g. ReLU's max_value). */
  optionalNumber(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    return this.has(key) ? this.number(key, undefined, range) : undefined;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, `${show(v)} is not true or false`);
    return v;
  }

  /** One of `choices` (the first is the default when absent). */
  choice<T extends string>(key: string, choices: readonly T[], fallback: T = choices[0]): T {
    const v = this.config[key] ?? fallback;
    if (!choices.includes(v as T))
      this.fail(key, `${show(v)} is not supported (${choices.map((c) => `'${c}'`).join(' or ')})`);
    return v as T;
  }

  /** A number or a pair of integers ≥ min, as Keras's conv and pooling sizes are. */
  pair(key: string, fallback?: number | [number, number], min = 1): [number, number] {
    const v = this.config[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing');
    const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : undefined;
    if (!pair?.every((d) => typeof d === 'number' && Number.isInteger(d)))
      this.fail(key, `${show(v)} is not an integer or a pair of integers`);
    if (pair.some((d) => d < min)) this.fail(key, `${show(v)} must be at least ${min}`);
    return [pair[0], pair[1]];
  }

  /** A list of integers (an int is a list of one). */
  intList(key: string, fallback?: number[]): number[] {
    const v = this.config[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is missing');
    const list = typeof v === 'number' ? [v] : v;
    if (!Array.isArray(list) || !list.every((d) => typeof d === 'number' && Number.isInteger(d)))
      this.fail(key, `${show(v)} is not a list of integers`);
    return list as number[];
  }

  private inRange(key: string, v: number, { min, max }: { min?: number; max?: number }): void {
    if (min !== undefined && v < min) this.fail(key, `${v} must be at least ${min}`);
    if (max !== undefined && v > max) this.fail(key, `${v} must be at most ${max}`);
  }
}
