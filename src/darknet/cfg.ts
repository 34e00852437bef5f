// Darknet .cfg files: INI-like [section]s of key=value lines, '#' or ';' comments. Every key is
// checked against what its section supports: keys that change inference math and are not supported
// fail with their line; training-only keys are accepted and ignored.
import { ModelFileError } from '../io/errors.js';

export interface CfgValue {
  value: string;
  line: number;
}

export interface CfgSection {
  type: string;
  line: number;
  options: Map<string, CfgValue>;
}

/** Keys each section uses at inference. */
const SUPPORTED: Record<string, string[]> = {
  net: ['width', 'height', 'channels', 'letter_box'],
  convolutional: ['filters', 'size', 'stride', 'pad', 'padding', 'groups', 'batch_normalize', 'activation'],
  maxpool: ['size', 'stride', 'padding'],
  avgpool: [],
  route: ['layers', 'groups', 'group_id'],
  shortcut: ['from', 'activation', 'alpha', 'beta'],
  upsample: ['stride', 'scale'],
  dropout: [],
  yolo: ['mask', 'anchors', 'classes', 'num', 'scale_x_y'],
};

/** Keys that only matter for training (or for Darknet's bookkeeping); accepted and ignored. */
const IGNORED: Record<string, string[]> = {
  net: [
    'batch', 'subdivisions', 'momentum', 'decay', 'angle', 'saturation', 'exposure', 'hue', 'learning_rate', 'burn_in',
    'max_batches', 'policy', 'steps', 'scales', 'step', 'gamma', 'power', 'mosaic', 'mixup', 'cutmix', 'flip', 'blur',
    'jitter', 'aug', 'max_chart_loss', 'optimized_memory', 'workspace_size_limit_mb', 'adam', 'b1', 'b2', 'eps',
    'label_smooth_eps', 'track', 'time_steps', 'sequential_subdivisions', 'random', 'min_crop', 'max_crop', 'inputs',
  ],
  convolutional: ['stopbackward', 'dontload', 'dontloadscales', 'learning_rate_scale', 'train'],
  maxpool: [],
  avgpool: [],
  route: [],
  shortcut: [],
  upsample: [],
  dropout: ['probability', 'dropblock', 'dropblock_size_rel', 'dropblock_size_abs'],
  yolo: [
    'jitter', 'ignore_thresh', 'truth_thresh', 'random', 'iou_loss', 'iou_normalizer', 'cls_normalizer', 'nms_kind',
    'beta_nms', 'iou_thresh', 'max_delta', 'counters_per_class', 'label_smooth_eps', 'objectness_smooth', 'resize',
    'uc_normalizer', 'obj_normalizer', 'delta_normalizer', 'focal_loss', 'max',
  ],
};

export function parseCfg(text: string, file: string): { net: CfgSection; layers: CfgSection[] } {
  const sections: CfgSection[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = /^\s*[#;]/.test(raw) ? '' : raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const where = i + 1;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) throw new ModelFileError(file, `line ${where}: malformed section header '${raw.trim()}'`);
      let type = m[1].trim().toLowerCase();
      if (type === 'network') type = 'net';
      if (type === 'conv') type = 'convolutional';
      if (type === 'max') type = 'maxpool';
      if (type === 'avg') type = 'avgpool';
      if (!(type in SUPPORTED)) {
        throw new ModelFileError(file, `line ${where}: section [${m[1]}] is not supported (supported: ${Object.keys(SUPPORTED).map((s) => `[${s}]`).join(', ')})`);
      }
      sections.push({ type, line: where, options: new Map() });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new ModelFileError(file, `line ${where}: expected key=value, got '${raw.trim()}'`);
    const section = sections[sections.length - 1];
    if (!section) throw new ModelFileError(file, `line ${where}: '${line}' comes before any [section]`);
    const key = line.slice(0, eq).trim().toLowerCase();
    if (!SUPPORTED[section.type].includes(key) && !IGNORED[section.type].includes(key)) {
      throw new ModelFileError(file, `line ${where}: key '${key}' in [${section.type}] is not supported`);
    }
    section.options.set(key, { value: line.slice(eq + 1).trim(), line: where });
  });
  if (sections[0]?.type !== 'net') throw new ModelFileError(file, 'the first section must be [net] or [network]');
  return { net: sections[0], layers: sections.slice(1) };
}

/** Typed access to a section's options, with errors naming the file, line and key. */
export class Options {
  constructor(private readonly section: CfgSection, private readonly file: string) {}

  private fail(key: string, message: string): never {
    const at = this.section.options.get(key)?.line ?? this.section.line;
    throw new ModelFileError(this.file, `line ${at}: [${this.section.type}] ${key}: ${message}`);
  }

  has(key: string): boolean {
    return this.section.options.has(key);
  }

  int(key: string, fallback?: number): number {
    const v = this.section.options.get(key);
    if (!v) return fallback ?? this.fail(key, 'is required');
    const n = Number(v.value);
    if (!Number.isInteger(n)) this.fail(key, `'${v.value}' is not an integer`);
    return n;
  }

  float(key: string, fallback: number): number {
    const v = this.section.options.get(key);
    if (!v) return fallback;
    const n = Number(v.value);
    if (!Number.isFinite(n)) this.fail(key, `'${v.value}' is not a number`);
    return n;
  }

  str(key: string, fallback: string): string {
    return this.section.options.get(key)?.value ?? fallback;
  }

  ints(key: string, fallback?: number[]): number[] {
    const v = this.section.options.get(key);
    if (!v) return fallback ?? this.fail(key, 'is required');
    const list = v.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (list.some((n) => !Number.isFinite(n))) this.fail(key, `'${v.value}' is not a list of numbers`);
    return list;
  }

  /** Throws naming this key's line. */
  error(key: string, message: string): never {
    return this.fail(key, message);
  }
}
