// Darknet .cfg files: INI-like [section]s of key=value lines, '#' or ';' comments. Keys are checked
// against what their section supports (src/io/darknet/sections.ts): keys that change inference and are not
// supported fail with their line; training-only keys are accepted and ignored.
import { ModelFileError } from '../../errors.js';

export interface CfgValue {
  value: string;
  line: number;
}

export interface CfgSection {
  type: string;
  line: number;
  options: Map<string, CfgValue>;
}

/** What [net] reads, and the training keys it ignores. */
export const NET_KEYS = {
  keys: ['width', 'height', 'channels', 'letter_box'],
  ignored: [
    'batch',
    'subdivisions',
    'momentum',
    'decay',
    'angle',
    'saturation',
    'exposure',
    'hue',
    'learning_rate',
    'burn_in',
    'max_batches',
    'policy',
    'steps',
    'scales',
    'step',
    'gamma',
    'power',
    'mosaic',
    'mixup',
    'cutmix',
    'flip',
    'blur',
    'jitter',
    'aug',
    'max_chart_loss',
    'optimized_memory',
    'workspace_size_limit_mb',
    'adam',
    'b1',
    'b2',
    'eps',
    'label_smooth_eps',
    'track',
    'time_steps',
    'sequential_subdivisions',
    'random',
    'min_crop',
    'max_crop',
    'inputs',
    'ema_alpha',
    'mosaic_bound',
    'gaussian_noise',
    'contrastive',
    'unsupervised',
    'adversarial_lr',
    'resize_step',
    'loss_scale',
    'dynamic_minibatch',
    'try_fix_nan',
    'augment_speed',
    'show_receptive_field',
    'batches_per_cycle',
    'batches_cycle_mult',
    'seq_scales',
    'attention',
    'equidistant_point',
  ],
};

const ALIASES: Record<string, string> = {
  network: 'net',
  conv: 'convolutional',
  max: 'maxpool',
  avg: 'avgpool',
  local_avg: 'local_avgpool',
};

/** Sections in file order; `known` gives each supported section's keys (anything else fails naming its line). */
export function parseCfg(
  text: string,
  file: string,
  known: Record<string, { keys: readonly string[]; ignored: readonly string[] }>,
): { net: CfgSection; layers: CfgSection[] } {
  const table = { net: NET_KEYS, ...known };
  const sections: CfgSection[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = /^\s*[#;]/.test(raw) ? '' : raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const where = i + 1;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m)
        throw new ModelFileError(file, `line ${where}: malformed section header '${raw.trim()}'`, { line: where });
      const name = m[1].trim().toLowerCase();
      const type = ALIASES[name] ?? name;
      if (!(type in table)) {
        throw new ModelFileError(
          file,
          `line ${where}: section [${m[1]}] is not supported (supported: ${Object.keys(table)
            .map((s) => `[${s}]`)
            .join(', ')})`,
          { line: where, field: `[${m[1]}]` },
        );
      }
      sections.push({ type, line: where, options: new Map() });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new ModelFileError(file, `line ${where}: expected key=value, got '${raw.trim()}'`, { line: where });
    const section = sections[sections.length - 1];
    if (!section)
      throw new ModelFileError(file, `line ${where}: '${line}' comes before any [section]`, { line: where });
    const key = line.slice(0, eq).trim().toLowerCase();
    const spec = table[section.type as keyof typeof table];
    if (!spec.keys.includes(key) && !spec.ignored.includes(key)) {
      throw new ModelFileError(file, `line ${where}: key '${key}' in [${section.type}] is not supported`, {
        line: where,
        field: key,
      });
    }
    // As in Darknet's option_find, the first occurrence of a key is the one that counts.
    if (!section.options.has(key)) section.options.set(key, { value: line.slice(eq + 1).trim(), line: where });
  });
  if (sections[0]?.type !== 'net') throw new ModelFileError(file, 'the first section must be [net] or [network]');
  return { net: sections[0], layers: sections.slice(1) };
}

/** Typed, validated access to a section's options, with errors naming the file, line and key. */
export class Options {
  constructor(
    private readonly section: CfgSection,
    private readonly file: string,
    private readonly layer?: string,
  ) {}

  /** Throws naming this key's line (or the section's, when the key is absent). */
  error(key: string, message: string): never {
    const line = this.section.options.get(key)?.line ?? this.section.line;
    throw new ModelFileError(this.file, `line ${line}: [${this.section.type}] ${key}: ${message}`, {
      line,
      field: key,
      layer: this.layer,
    });
  }

  has(key: string): boolean {
    return this.section.options.has(key);
  }

  /** An integer, within [min, max] when given. */
  int(key: string, fallback?: number, range: { min?: number; max?: number } = {}): number {
    const v = this.section.options.get(key);
    if (!v) return fallback ?? this.error(key, 'is required');
    const n = /^[+-]?\d+$/.test(v.value) ? Number(v.value) : NaN;
    if (!Number.isSafeInteger(n)) this.error(key, `'${v.value}' is not an integer`);
    if (range.min !== undefined && n < range.min) this.error(key, `${n} is below the minimum of ${range.min}`);
    if (range.max !== undefined && n > range.max) this.error(key, `${n} is above the maximum of ${range.max}`);
    return n;
  }

  float(key: string, fallback: number): number {
    const v = this.section.options.get(key);
    if (!v) return fallback;
    const n = v.value.trim() === '' ? NaN : Number(v.value);
    if (!Number.isFinite(n)) this.error(key, `'${v.value}' is not a number`);
    return n;
  }

  str(key: string, fallback: string): string {
    return this.section.options.get(key)?.value ?? fallback;
  }

  /** A comma-separated list of numbers (empty entries are skipped). */
  ints(key: string, fallback?: number[]): number[] {
    const v = this.section.options.get(key);
    if (!v) return fallback ?? this.error(key, 'is required');
    const list = v.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
    if (list.some((n) => !Number.isFinite(n))) this.error(key, `'${v.value}' is not a list of numbers`);
    return list;
  }
}
