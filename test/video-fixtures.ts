// Tiny videos made by ffmpeg for the video tests, ways to damage them, and a look at this process's ffmpeg children.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Encodes a lavfi source (e.g. 'testsrc=size=64x48:rate=10') as H.264 into `path`. Faststart puts the index first,
 * as streaming encoders do, so a truncated copy still opens and fails only while decoding.
 */
export function makeVideo(
  path: string,
  lavfi: string,
  seconds: number,
  extra: string[] = [],
  indexFirst = true,
): string {
  const faststart = indexFirst && /\.(mp4|mov|m4v)$/.test(path) ? ['-movflags', '+faststart'] : [];
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      lavfi,
      '-t',
      String(seconds),
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      ...extra,
      ...faststart,
      path,
    ],
    { encoding: 'utf8' },
  );
  if (r.error) throw new Error(`the video tests need ffmpeg (npm run setup installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${path}: ${r.stderr}`);
  return path;
}

/** A copy of `path` with rotation metadata (phones store portrait video this way). */
export function rotateVideo(path: string, out: string, degrees: number): string {
  const args = ['-v', 'error', '-y', '-i', path, '-c', 'copy', '-metadata:s:v', `rotate=${degrees}`, out];
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not rotate ${path}: ${r.stderr}`);
  return out;
}

/** [start, end) of the payload of the top-level mdat box of an MP4. */
export function mdatRange(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = view.getUint32(at);
    if (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === 'mdat') return [at + 8, at + size];
    if (size < 8) break;
    at += size;
  }
  throw new Error('no mdat box');
}

/** Inverts `count` bytes in the middle of the mdat, every `step` bytes from there on (step 1: a run). */
export function flipMdatBytes(path: string, out: string, { count = 16, step = 1, from = 0.5 } = {}): string {
  const bytes = new Uint8Array(readFileSync(path));
  const [start, end] = mdatRange(bytes);
  const first = start + Math.floor((end - start) * from);
  for (let i = 0, at = first; i < count && at < end; i++, at += step) bytes[at] ^= 0xff;
  writeFileSync(out, bytes);
  return out;
}

/**
 * Damages every H.264 slice of an MP4 (4-byte length-prefixed NAL units in the mdat) past its header, one byte in
 * `step`: the container and the slice headers stay intact, so ffmpeg decodes every frame and complains about each.
 */
export function damageSlices(path: string, out: string, step = 11, sliceHeaderBytes = 4): string {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer);
  const [start, end] = mdatRange(bytes);
  for (let at = start; at + 4 < end; ) {
    const size = view.getUint32(at);
    const type = bytes[at + 4] & 0x1f;
    if (type === 1 || type === 5) {
      for (let i = at + 4 + sliceHeaderBytes; i < Math.min(at + 4 + size, end); i += step) bytes[i] ^= 0x5a;
    }
    at += 4 + size;
  }
  writeFileSync(out, bytes);
  return out;
}

/** A copy cut off halfway through the mdat, as a download or a recording interrupted midway leaves it. */
export function truncateMdat(path: string, out: string): string {
  const bytes = readFileSync(path);
  const [start, end] = mdatRange(bytes);
  writeFileSync(out, bytes.subarray(0, (start + end) >> 1));
  return out;
}

/** Pids of this process's children named ffmpeg, zombies included (Linux /proc). */
export function ffmpegChildren(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid && comm === 'ffmpeg') pids.push(Number(name));
  }
  return pids;
}

/** Polls until `ok()` or the deadline; returns whether it became true. */
export async function eventually(ok: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (ok()) return true;
  }
  return ok();
}

/** Runs a test body with a deadline so a hang fails the test instead of blocking the run. */
export function within<T>(ms: number, body: () => Promise<T>): () => Promise<T> {
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms (a hang)`)), ms);
    });
    return Promise.race([body(), deadline]).finally(() => clearTimeout(timer));
  };
}
