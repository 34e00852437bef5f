// Command-line arguments, declared once per command: the same table parses, validates and prints `--help`.
// Every numeric and enumerated option is checked here with an error naming it, so a command body only ever
// sees values in range. Negative numbers are values, not flags (`--offset -3`).
import { UsageError } from '../errors.js';

interface OptionBase {
  /** One line for --help. */
  help: string;
  /** A one-letter alias (`-o`). */
  short?: string;
}

export type OptionSpec =
  | (OptionBase & { kind: 'flag' })
  | (OptionBase & { kind: 'string'; default?: string; placeholder?: string; multiple?: boolean })
  | (OptionBase & {
      kind: 'number';
      default?: number;
      min?: number;
      max?: number;
      integer?: boolean;
      multipleOf?: number;
    })
  | (OptionBase & { kind: 'choice'; choices: readonly string[]; default?: string });

export type OptionTable = Record<string, OptionSpec>;

/** The parsed value type of each option in a table. */
export type Values<T extends OptionTable> = {
  [K in keyof T]: T[K] extends { kind: 'flag' }
    ? boolean
    : T[K] extends { kind: 'number'; default: number }
      ? number
      : T[K] extends { kind: 'number' }
        ? number | undefined
        : T[K] extends { kind: 'string'; multiple: true }
          ? string[]
          : T[K] extends { kind: 'choice'; default: string }
            ? T[K]['choices'][number]
            : T[K] extends { kind: 'choice' }
              ? T[K]['choices'][number] | undefined
              : T[K] extends { kind: 'string'; default: string }
                ? string
                : string | undefined;
};

export interface CommandSpec<T extends OptionTable = OptionTable> {
  name: string;
  /** Positional arguments as shown in the usage line, e.g. 'IMAGE [IMAGE …]'. */
  args: string;
  summary: string;
  /** Extra paragraphs for --help (what is printed, where files go). */
  details?: string;
  options: T;
  /** How many positional arguments the command takes. */
  positionals: { min: number; max?: number };
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(name: string, text: string, spec: OptionSpec & { kind: 'number' }): number {
  const value = DECIMAL.test(text.trim()) ? Number(text) : NaN;
  const range = describeRange(spec);
  if (!Number.isFinite(value))
    throw new UsageError(`'${text}' is not a number${range ? ` (${range})` : ''}`, `--${name}`);
  if (spec.integer && !Number.isInteger(value))
    throw new UsageError(`${text} is not a whole number (${range})`, `--${name}`);
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    throw new UsageError(`${text} is out of range (${range})`, `--${name}`);
  }
  if (spec.multipleOf && value % spec.multipleOf)
    throw new UsageError(`${text} is not a multiple of ${spec.multipleOf}`, `--${name}`);
  return value;
}

function describeRange(spec: OptionSpec & { kind: 'number' }): string {
  const kind = spec.integer ? 'a whole number' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) return `${kind} from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `${kind} ≥ ${spec.min}`;
  if (spec.max !== undefined) return `${kind} ≤ ${spec.max}`;
  return spec.integer ? kind : '';
}

/** Parses `argv` against a command's table; throws UsageError naming the option or argument at fault. */
export function parseCommand<T extends OptionTable>(
  spec: CommandSpec<T>,
  argv: readonly string[],
): { values: Values<T>; positionals: string[] } {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map(
    Object.entries(spec.options)
      .filter(([, o]) => o.short)
      .map(([n, o]) => [o.short!, n]),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const short = /^-([A-Za-z])$/.exec(arg);
    if (!long && !short) {
      positionals.push(arg);
      continue;
    }
    const name = long ? long[1] : byShort.get(short![1]);
    const option = name === undefined ? undefined : spec.options[name];
    if (!option || name === undefined) {
      throw new UsageError(`unknown option '${arg}' (webgpu-cnn ${spec.name} --help lists the options)`);
    }
    if (option.kind === 'flag') {
      if (long?.[2] !== undefined) throw new UsageError(`takes no value`, `--${name}`);
      values[name] = true;
      continue;
    }
    let text = long?.[2];
    if (text === undefined) {
      // The next argument is the value, even when it starts with '-' (a negative number, or a file named '-x').
      if (i + 1 >= argv.length) throw new UsageError(`needs a value`, `--${name}`);
      text = argv[++i];
    }
    if (option.kind === 'number') values[name] = parseNumber(name, text, option);
    else if (option.kind === 'choice') {
      if (!option.choices.includes(text))
        throw new UsageError(`'${text}' is not one of ${option.choices.join(', ')}`, `--${name}`);
      values[name] = text;
    } else if (option.multiple) {
      values[name] = [...((values[name] as string[] | undefined) ?? []), text];
    } else {
      if (!text) throw new UsageError(`needs a non-empty value`, `--${name}`);
      values[name] = text;
    }
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (values[name] !== undefined) continue;
    if (option.kind === 'flag') values[name] = false;
    else if (option.kind === 'string' && option.multiple) values[name] = [];
    else if ('default' in option && option.default !== undefined) values[name] = option.default;
  }
  const { min, max } = spec.positionals;
  if (positionals.length < min || (max !== undefined && positionals.length > max)) {
    const want = max === undefined ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(
      `${spec.name}: expects ${want} argument(s) (${spec.args || 'none'}), got ${positionals.length}; ` +
        `see webgpu-cnn ${spec.name} --help`,
    );
  }
  return { values: values as Values<T>, positionals };
}

/** `webgpu-cnn <command> --help`: the usage line, the summary, and every option with its default. */
export function formatHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const value =
      o.kind === 'flag'
        ? ''
        : o.kind === 'choice'
          ? ` ${o.choices.join('|')}`
          : o.kind === 'number'
            ? ' N'
            : ` ${o.placeholder ?? 'VALUE'}`;
    const left = `${o.short ? `-${o.short}, ` : '    '}--${name}${value}`;
    const dflt = o.kind !== 'flag' && 'default' in o && o.default !== undefined ? ` (default ${o.default})` : '';
    const range = o.kind === 'number' ? describeRange(o) : '';
    return { left, right: `${o.help}${range ? `; ${range}` : ''}${dflt}` };
  });
  const width = Math.max(0, ...rows.map((r) => r.left.length));
  const lines = [
    `Usage: webgpu-cnn ${spec.name}${Object.keys(spec.options).length ? ' [options]' : ''} ${spec.args}`.trimEnd(),
    '',
    spec.summary,
  ];
  if (spec.details) lines.push('', spec.details);
  if (rows.length) lines.push('', 'Options:', ...rows.map((r) => `  ${r.left.padEnd(width)}  ${r.right}`));
  lines.push(`  ${'    --help'.padEnd(width)}  this text`);
  return lines.join('\n');
}
