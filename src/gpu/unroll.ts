// `// @unroll` loops: a kernel marks a loop over a register tile,
//   for (var i = 0u; i < TM; i++) { ... } // @unroll      (the marker ends the `for` line)
// and, on a device whose compiler keeps such loops (DeviceCaps.unrollLoops: SwiftShader), the
// specialiser writes out one copy of the body per iteration, with the counter replaced by its literal
// (`0u`, `1u`, ...). Why: WGSL has no unroll attribute and Tint emits the loop as is. SwiftShader runs
// it as a loop, and an array indexed by a loop counter lives in memory, each access a per-lane gather:
// its register-blocked GEMM ran 3–4× slower looped than unrolled. With literal indices every access is
// a constant expression, so the tile becomes plain registers. LLVM-based drivers (lavapipe, GPU
// compilers) unroll the loops themselves, and compile the written-out form far more slowly.
//
// The copies go on the loop's first line and the loop's other lines are left empty, so every line
// after the loop keeps its number in compiler messages. The bound is an integer literal, a
// module-scope `const NAME: u32` (after @spec rewriting), or a product of them. Bodies may not
// `break` or `continue` (there is no loop left to leave): guard with an `if` instead.

const HEADER = new RegExp(
  String.raw`for\s*\(\s*var\s+([a-z_]\w*)\s*=\s*0u?\s*;\s*\1\s*<\s*(\w+(?:\s*\*\s*\w+)*)\s*;\s*\1\s*\+\+\s*\)` +
    String.raw`\s*\{[^\n]*?\/\/\s*@unroll\b[^\n]*`,
  'g',
);
const MODULE_CONST = /^const\s+([A-Z][A-Z0-9_]*)\s*:\s*[ui]32\s*=\s*(\d+)[ui]?\s*;/gm;
/** Beyond this many copies of a body the source would balloon; a tile that large is a planning bug. */
const MAX_COPIES = 128;

export function unrollLoops(code: string, file: string): string {
  const consts = new Map<string, number>();
  for (const m of code.matchAll(MODULE_CONST)) consts.set(m[1], Number(m[2]));
  const headers = [...code.matchAll(HEADER)];
  const headerLines = new Set(headers.map((m) => lineOf(code, m.index ?? 0)));
  for (const marker of code.matchAll(/\/\/\s*@unroll\b/g)) {
    const line = lineOf(code, marker.index ?? 0);
    if (!headerLines.has(line)) {
      throw new Error(`${file}:${line}: @unroll marks no \`for (var i = 0u; i < BOUND; i++) {\` loop`);
    }
  }
  // Last first: a loop never contains a marked loop that starts before it, so inner loops are
  // already written out when their outer loop copies its body.
  for (let h = headers.length - 1; h >= 0; h--) {
    const m = headers[h];
    const start = m.index ?? 0;
    const where = `${file}:${lineOf(code, start)}`;
    const counter = m[1];
    const count = boundOf(m[2], consts);
    if (count === undefined) throw new Error(`${where}: @unroll bound '${m[2]}' is not made of literals and consts`);
    if (count > MAX_COPIES) throw new Error(`${where}: @unroll of ${count} copies (at most ${MAX_COPIES})`);
    const open = code.indexOf('{', start + m[0].indexOf(')'));
    const close = matchingBrace(code, open, where);
    const body = stripComments(code.slice(open + 1, close));
    if (/\b(break|continue)\b/.test(body)) throw new Error(`${where}: an @unroll body may not break or continue`);
    const use = new RegExp(`(?<![\\w.])${counter}(?!\\w)`, 'g');
    const flat = body.replace(/\s*\n\s*/g, ' ').trim();
    const copies = Array.from({ length: count }, (_, v) => `{ ${flat.replace(use, `${v}u`)} }`).join(' ');
    const newlines = code.slice(start, close).split('\n').length - 1;
    code = code.slice(0, start) + copies + '\n'.repeat(newlines) + code.slice(close + 1);
  }
  return code;
}

/** `4u`, `TM` or a product such as `ROWS * COLS`; undefined when a factor is not known. */
function boundOf(bound: string, consts: Map<string, number>): number | undefined {
  let product = 1;
  for (const factor of bound.split('*').map((f) => f.trim())) {
    const value = /^\d+u?$/.test(factor) ? Number.parseInt(factor, 10) : consts.get(factor);
    if (value === undefined) return undefined;
    product *= value;
  }
  return product;
}

function lineOf(code: string, at: number): number {
  return code.slice(0, at).split('\n').length;
}

function stripComments(text: string): string {
  return text.replace(/\/\/[^\n]*/g, '');
}

function matchingBrace(code: string, open: number, where: string): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const ch = code[i];
    if (ch === '/' && code[i + 1] === '/') {
      const eol = code.indexOf('\n', i);
      i = eol < 0 ? code.length : eol;
    } else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  throw new Error(`${where}: @unroll loop has no closing brace`);
}
