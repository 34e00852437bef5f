// Video frames in and out for detect-video: a video file decoded by ffmpeg to raw RGBA on a pipe, or a directory of
// .jpg/.png frames; and an annotated video encoded by ffmpeg (libx264), or a directory of frame_00000.jpg….
//
// What makes it robust, measured with ffmpeg 5.1:
// - Both of ffmpeg's output pipes are always read (a full stderr pipe blocks ffmpeg, a damaged video fills one).
// - The decoder runs with -xerror and -err_detect explode: without them ffmpeg exits 0 on flipped bytes (concealing
//   them as grey blocks) and on a truncated file (fewer frames); with them it exits 1. Any error line on exit 0 is
//   treated as a failure too, unless the caller asks for concealment.
// - The encoder writes a hidden temporary file that is renamed onto the output only after ffmpeg exited 0, and every
//   wait on ffmpeg's stdin races the process's exit, so a dead encoder is an error, never a hang or a partial file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ModelFileError, UsageError } from '../errors.js';
import { decodeImage, resizeImage, saveImage, type RgbaImage } from '../io/image.js';

/** Names (or paths) of the ffmpeg binaries; tests point them elsewhere to simulate a machine without ffmpeg. */
export interface FfmpegTools {
  /** Default 'ffmpeg', looked up on PATH. */
  ffmpeg?: string;
  /** Default 'ffprobe', looked up on PATH. */
  ffprobe?: string;
}

export interface FrameSourceOptions extends FfmpegTools {
  /**
   * Frames of a directory whose size differs from the first frame's: 'scale' resizes them (bilinear) to the first
   * frame's size with one notice; 'refuse' fails naming the frame. Default 'scale'.
   */
  mixedSizes?: 'scale' | 'refuse';
  /**
   * Decoder errors in a video: 'fail' (default) raises ModelFileError at the first one; 'conceal' lets ffmpeg patch
   * the damaged blocks (they come out grey or smeared) and reports the number of errors through onNotice at the end.
   */
  decodeErrors?: 'fail' | 'conceal';
  /** Frame rate given to a directory of frames (a video has its own). Default 25. */
  fps?: number;
  /** One-line notices (a scaled frame, concealed decoder errors). Default: console.warn. */
  onNotice?: (message: string) => void;
  /** How JPEG frames of a directory are decoded (see DecodeOptions.jpeg): 'stb' for Darknet's pixels. */
  jpeg?: 'mozjpeg' | 'stb';
}

/** Frames from a video file or a directory of images, all of the same size. */
export interface FrameSource {
  readonly kind: 'video' | 'frames';
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The number of frames, when known (a directory's file count, a video's frame count or estimate). */
  readonly count?: number;
  /** True when `count` is duration × fps (the container does not store a frame count). */
  readonly countIsEstimate?: boolean;
  /**
   * The frames in order, each a new image. A video's decoder starts on the first call and is killed when the loop
   * ends early (break, return, throw); a damaged video throws ModelFileError after the frames that did decode.
   */
  frames(): AsyncGenerator<RgbaImage>;
  /** Kills any decoder still running (for a consumer that stops iterating without ending its loop). */
  close(): Promise<void>;
}

/** Where annotated frames go: a video file or a directory of JPEGs. */
export type OutputKind = 'video' | 'frames';

export interface FrameSinkOptions extends FfmpegTools {
  width: number;
  height: number;
  fps: number;
  kind: OutputKind;
}

/** Writes frames of one size; nothing appears at `output` (for a video) until finish() succeeds. */
export interface FrameSink {
  readonly output: string;
  readonly kind: OutputKind;
  readonly framesWritten: number;
  /**
   * Queues one frame (of the sink's size); resolves once the encoder has taken it, so `frame.data` must not change
   * before then. Rejects with ModelFileError when the encoder failed (the sink has then already cleaned up).
   */
  write(frame: RgbaImage): Promise<void>;
  /** Ends the video and moves it onto `output`; rejects with ModelFileError (and leaves nothing) when ffmpeg failed. */
  finish(): Promise<void>;
  /** Stops and removes what this sink wrote: the temporary video, or frames in a directory this sink created. */
  abort(): Promise<void>;
}

/** Video containers ffmpeg 5.1 muxes libx264 into and reads back with the right frame count. */
const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.avi'] as const;
const FRAME_PATTERN = /\.(jpe?g|png)$/i;
const DEFAULT_DIRECTORY_FPS = 25;
// ffprobe and ffmpeg -version answer in well under a second; a stuck one (a FIFO as input) must not block forever.
const PROBE_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------------------
// Opening a source

/**
 * Frames from `input`: a video file (probed with ffprobe, decoded by ffmpeg) or a directory of .jpg/.jpeg/.png
 * frames in natural name order (frame_2 before frame_10). Fails with ModelFileError for a missing, unreadable or
 * frameless input and UsageError when a video needs ffmpeg and it is not installed.
 */
export async function openFrameSource(input: string, options: FrameSourceOptions = {}): Promise<FrameSource> {
  const stats = statOrUndefined(input);
  if (!stats) throw new ModelFileError(input, 'no such file or directory');
  return stats.isDirectory() ? openDirectorySource(input, options) : openVideoSource(input, options);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Directory of frames

async function openDirectorySource(dir: string, options: FrameSourceOptions): Promise<FrameSource> {
  const files = listFrameFiles(dir);
  if (!files.length) throw new ModelFileError(dir, 'has no .jpg, .jpeg or .png frames');
  const first = await decodeImage(join(dir, files[0]), { jpeg: options.jpeg });
  const fps = options.fps ?? DEFAULT_DIRECTORY_FPS;
  if (!(fps > 0)) throw new UsageError(`the frame rate must be positive, not ${fps}`, 'fps');
  const fit = sizeFitter(dir, first, options.mixedSizes ?? 'scale', options.onNotice ?? defaultNotice);
  return {
    kind: 'frames',
    width: first.width,
    height: first.height,
    fps,
    count: files.length,
    async *frames() {
      for (const file of files) yield fit(file, await decodeImage(join(dir, file), { jpeg: options.jpeg }));
    },
    close: async () => {},
  };
}

function listFrameFiles(dir: string): string[] {
  const isFile = (e: Dirent) => e.isFile() || (e.isSymbolicLink() && !!statOrUndefined(join(dir, e.name))?.isFile());
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => FRAME_PATTERN.test(e.name) && isFile(e))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Brings each frame to the first frame's size (or refuses it), with one notice for the first mismatch. */
function sizeFitter(dir: string, first: RgbaImage, mode: 'scale' | 'refuse', notice: (m: string) => void) {
  let noticed = false;
  return (file: string, image: RgbaImage): RgbaImage => {
    if (image.width === first.width && image.height === first.height) return image;
    const sizes = `is ${image.width}×${image.height}`;
    if (mode === 'refuse') {
      throw new ModelFileError(join(dir, file), `${sizes}, not the first frame's ${first.width}×${first.height}`);
    }
    if (!noticed) {
      const firstSize = `${first.width}×${first.height}`;
      notice(`${file} ${sizes}; scaled to the first frame's ${firstSize} (and any others that differ)`);
      noticed = true;
    }
    return resizeImage(image, first.width, first.height, 'bilinear');
  };
}

function defaultNotice(message: string): void {
  console.warn(message);
}

// ---------------------------------------------------------------------------------------------------------------
// Video file

interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  count?: number;
  countIsEstimate?: boolean;
}

/** The decoders a video source has running, so close() can stop them even if their loops were abandoned. */
interface Decoders {
  running: Set<ChildProcess>;
  closed: boolean;
}

function openVideoSource(input: string, options: FrameSourceOptions): FrameSource {
  const info = probeVideo(input, options.ffprobe ?? 'ffprobe');
  const decoders: Decoders = { running: new Set(), closed: false };
  return {
    kind: 'video',
    ...info,
    frames: () => decodeVideo(input, info, options, decoders),
    async close() {
      decoders.closed = true;
      await Promise.all([...decoders.running].map(killAndWait));
    },
  };
}

/** Size (as ffmpeg outputs it: rotation applied), frame rate and frame count, from ffprobe. */
function probeVideo(input: string, ffprobe: string): VideoInfo {
  const entries =
    'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:stream_side_data=rotation' + ':format=duration';
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', input];
  const r = spawnSync(ffprobe, args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (r.error) throw toolError(r.error, ffprobe, input);
  if (r.status !== 0) {
    const line = meaningfulLine(r.stderr.split('\n'), input);
    const why = line ? `is not a video ffprobe can read: ${line}` : exitDescription('ffprobe', r.status, r.signal);
    throw new ModelFileError(input, why);
  }
  const parsed = parseProbe(r.stdout);
  const stream = parsed?.streams?.[0];
  if (!stream?.width || !stream.height) throw new ModelFileError(input, 'has no video stream');
  const quarterTurn = Math.abs(Number(stream.side_data_list?.find((d) => 'rotation' in d)?.rotation ?? 0)) % 180 === 90;
  const fps = frameRate(stream.avg_frame_rate) ?? frameRate(stream.r_frame_rate) ?? DEFAULT_DIRECTORY_FPS;
  return {
    width: quarterTurn ? stream.height : stream.width,
    height: quarterTurn ? stream.width : stream.height,
    fps,
    ...frameCount(stream, parsed?.format, fps),
  };
}

function parseProbe(json: string): ProbeOutput | undefined {
  try {
    return JSON.parse(json) as ProbeOutput;
  } catch {
    return undefined; // reported as "has no video stream"
  }
}

interface ProbeOutput {
  streams?: {
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { duration?: string };
}

/** "30000/1001" → 29.97; undefined for ffprobe's "0/0" and anything implausible. */
function frameRate(rational?: string): number | undefined {
  const [num, den = 1] = String(rational).split('/').map(Number);
  const fps = num / den;
  return fps > 0 && fps <= 1000 ? fps : undefined;
}

function frameCount(stream: NonNullable<ProbeOutput['streams']>[number], format: ProbeOutput['format'], fps: number) {
  const stored = Number(stream.nb_frames);
  if (stored > 0) return { count: stored };
  const seconds = Number(stream.duration) || Number(format?.duration);
  return seconds > 0 ? { count: Math.max(1, Math.round(seconds * fps)), countIsEstimate: true } : {};
}

async function* decodeVideo(input: string, info: VideoInfo, options: FrameSourceOptions, decoders: Decoders) {
  if (decoders.closed) return;
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';
  const conceal = options.decodeErrors === 'conceal';
  const args = decoderArgs(input, info, conceal);
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  decoders.running.add(child);
  const exited = exitOf(child);
  const log = new StderrLog(child.stderr!);
  const frames = new FrameAssembler(info.width * info.height * 4);
  try {
    for await (const chunk of child.stdout!) {
      for (const data of frames.push(chunk as Buffer)) {
        yield { width: info.width, height: info.height, data };
        if (decoders.closed) return;
      }
    }
    const status = await exited;
    if (decoders.closed) return;
    if (!status.error) await log.ended;
    checkDecoderExit(input, ffmpeg, status, log, conceal, frames.partialBytes);
    if (conceal && log.lineCount) {
      (options.onNotice ?? defaultNotice)(
        `${input}: ffmpeg concealed ${log.lineCount} decoder errors (first: ${meaningfulLine(log.lines, input)})`,
      );
    }
  } finally {
    await killAndWait(child);
    decoders.running.delete(child);
  }
}

function decoderArgs(input: string, info: VideoInfo, conceal: boolean): string[] {
  // -xerror and -err_detect explode turn ffmpeg's concealment of damaged data into exit 1 (see the file comment);
  // -s pins the frame size so every frame on the pipe is exactly width×height×4 bytes, whatever the stream does.
  const strict = conceal ? [] : ['-xerror', '-err_detect', 'explode'];
  return [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-v',
    'error',
    ...strict,
    '-i',
    input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-s',
    `${info.width}x${info.height}`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    'pipe:1',
  ];
}

function checkDecoderExit(
  input: string,
  ffmpeg: string,
  status: ExitStatus,
  log: StderrLog,
  conceal: boolean,
  partialBytes: number,
): void {
  if (status.error) throw toolError(status.error, ffmpeg, input);
  // Without concealment ffmpeg stops at the first error, which is the reason; with it the fatal one comes last.
  const line = meaningfulLine(log.lines, input, conceal ? 'last' : 'first');
  if (status.code !== 0) {
    const why = line ? `cannot be decoded: ${line}` : exitDescription('ffmpeg', status.code, status.signal);
    throw new ModelFileError(input, why);
  }
  // With -v error, any line is an error ffmpeg recovered from: in strict mode a damaged frame got through.
  if (!conceal && line) throw new ModelFileError(input, `cannot be decoded: ${line}`);
  if (partialBytes) throw new ModelFileError(input, `the decoder stopped ${partialBytes} bytes into a frame`);
}

/** Cuts a byte stream into frames of a fixed size; each frame is a fresh array the consumer may keep. */
class FrameAssembler {
  private frame?: Uint8Array;
  private filled = 0;
  constructor(private readonly frameBytes: number) {}

  *push(chunk: Uint8Array): Generator<Uint8Array> {
    for (let at = 0; at < chunk.length; ) {
      this.frame ??= new Uint8Array(this.frameBytes);
      const n = Math.min(this.frameBytes - this.filled, chunk.length - at);
      this.frame.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.frameBytes) {
        yield this.frame;
        this.frame = undefined;
        this.filled = 0;
      }
    }
  }

  get partialBytes(): number {
    return this.filled;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checking and opening an output

/**
 * Throws unless `output` can be written as `kind`, before any frame is decoded: for a video, its directory exists
 * and is writable, it is not a directory, its extension is one of VIDEO_EXTENSIONS, and ffmpeg is installed; for
 * frames, it is a writable directory or a name in a writable directory. ModelFileError names the output; a missing
 * ffmpeg is a UsageError.
 */
export function checkVideoOutput(output: string, kind: OutputKind, tools: FfmpegTools = {}): void {
  if (kind === 'frames') {
    checkFramesOutput(output);
    return;
  }
  const ext = extname(output).toLowerCase();
  if (!(VIDEO_EXTENSIONS as readonly string[]).includes(ext)) {
    const what = ext
      ? `has the extension ${ext}, which is not a container ffmpeg writes H.264 video into here`
      : 'has no extension, so ffmpeg cannot tell which container to write';
    throw new ModelFileError(output, `${what}; use ${VIDEO_EXTENSIONS.join(', ')}, or give a directory for frames`);
  }
  if (statOrUndefined(output)?.isDirectory()) throw new ModelFileError(output, 'is a directory, not a video file');
  checkWritableDirectory(output, dirname(resolve(output)));
  requireFfmpeg(tools.ffmpeg ?? 'ffmpeg', output);
}

function checkFramesOutput(output: string): void {
  const stats = statOrUndefined(output);
  if (stats && !stats.isDirectory()) throw new ModelFileError(output, 'is a file, not a directory for frames');
  checkWritableDirectory(output, stats ? resolve(output) : dirname(resolve(output)));
}

function checkWritableDirectory(output: string, dir: string): void {
  const stats = statOrUndefined(dir);
  if (!stats) throw new ModelFileError(output, `cannot be written: the directory ${dir} does not exist`);
  if (!stats.isDirectory()) throw new ModelFileError(output, `cannot be written: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ModelFileError(output, `cannot be written: the directory ${dir} is not writable`);
  }
}

/** Throws UsageError (how to install it) unless `ffmpeg -version` runs. */
function requireFfmpeg(ffmpeg = 'ffmpeg', file?: string): void {
  const r = spawnSync(ffmpeg, ['-version'], { stdio: 'ignore', timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (r.error) throw toolError(r.error, ffmpeg, file);
  if (r.status !== 0) {
    throw new UsageError(`${ffmpeg} -version fails (${exitDescription(ffmpeg, r.status, r.signal)}); reinstall ffmpeg`);
  }
}

/**
 * A sink for frames of `width`×`height`, after checkVideoOutput. A video is encoded by ffmpeg (libx264, yuv420p,
 * odd sizes padded to even) into `.<name>.<pid>.tmp<ext>` beside `output`, renamed onto it by finish(). Frames go
 * to `output/frame_00000.jpg`…; the directory is created if missing.
 */
export function openFrameSink(output: string, options: FrameSinkOptions): FrameSink {
  const { width, height, fps, kind } = options;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new UsageError(`the frame size must be whole positive pixels, not ${width}×${height}`);
  }
  if (!(fps > 0 && fps <= 1000)) throw new UsageError(`the frame rate must be between 0 and 1000, not ${fps}`, 'fps');
  checkVideoOutput(output, kind, options);
  return kind === 'video' ? new VideoSink(output, options) : new DirectorySink(output, width, height);
}

function checkFrameSize(frame: RgbaImage, width: number, height: number, index: number): void {
  if (frame.width !== width || frame.height !== height || frame.data.length !== width * height * 4) {
    // A caller's bug rather than a bad file: the frames must all have the size the sink was opened with.
    throw new Error(
      `frame ${index} is ${frame.width}×${frame.height} (${frame.data.length} bytes); the sink is ${width}×${height}`,
    );
  }
}

type SinkState = 'open' | 'finished' | 'aborted' | 'failed';

class VideoSink implements FrameSink {
  readonly kind = 'video';
  framesWritten = 0;
  private state: SinkState = 'open';
  private failure?: ModelFileError | UsageError;
  private pipeError?: Error;
  private readonly temp: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<ExitStatus>;
  private exitStatus?: ExitStatus;
  private readonly log: StderrLog;
  private readonly ffmpeg: string;
  // Removes the temporary file if the process exits before finish() or abort() (an uncaught error elsewhere).
  private readonly cleanupOnExit = () => {
    this.child.kill('SIGKILL');
    rmSync(this.temp, { force: true });
  };

  constructor(
    readonly output: string,
    private readonly options: FrameSinkOptions,
  ) {
    const ext = extname(output);
    this.temp = join(dirname(output), `.${basename(output, ext)}.${process.pid}.tmp${ext}`);
    this.ffmpeg = options.ffmpeg ?? 'ffmpeg';
    const args = encoderArgs(options, this.temp);
    this.child = spawn(this.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
    this.exited = exitOf(this.child).then((status) => (this.exitStatus = status));
    this.log = new StderrLog(this.child.stderr!);
    // EPIPE when ffmpeg dies: remembered here, reported by write() or finish() with ffmpeg's own reason.
    this.child.stdin!.on('error', (e) => (this.pipeError ??= e));
    process.on('exit', this.cleanupOnExit);
  }

  async write(frame: RgbaImage): Promise<void> {
    this.assertUsable();
    checkFrameSize(frame, this.options.width, this.options.height, this.framesWritten);
    const stdin = this.child.stdin!;
    const accepted = !stdin.destroyed && stdin.write(frame.data);
    if (!accepted) await firstOf(stdin, ['drain', 'close'], this.exited);
    if (this.state !== 'open') this.assertUsable(); // aborted meanwhile
    if (this.exitStatus || this.pipeError) throw await this.fail();
    this.framesWritten++;
  }

  async finish(): Promise<void> {
    this.assertUsable();
    this.child.stdin!.end();
    const status = await this.exited;
    if (status.error || status.code !== 0 || this.pipeError) throw await this.fail();
    if (!this.framesWritten) throw await this.fail('no frames were written');
    try {
      renameSync(this.temp, this.output);
    } catch (e) {
      throw await this.fail(`cannot be written: ${(e as Error).message}`);
    }
    this.settle('finished');
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.settle('aborted');
    await killAndWait(this.child);
    rmSync(this.temp, { force: true });
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new Error(`${this.output}: the sink is already ${this.state}`);
  }

  /** Stops ffmpeg, removes the temporary file, and returns the error that write() and finish() throw from now on. */
  private async fail(reason?: string): Promise<ModelFileError | UsageError> {
    if (this.failure) return this.failure;
    this.settle('failed');
    await killAndWait(this.child);
    const status = await this.exited;
    if (!status.error) await this.log.ended;
    rmSync(this.temp, { force: true });
    return (this.failure = reason ? new ModelFileError(this.output, reason) : this.failureOf(status));
  }

  private failureOf(status: ExitStatus): ModelFileError | UsageError {
    if (status.error) {
      const e = toolError(status.error, this.ffmpeg, this.output);
      return e instanceof UsageError || e instanceof ModelFileError ? e : new ModelFileError(this.output, e.message);
    }
    const line = meaningfulLine(this.log.lines, this.temp);
    if (line) return new ModelFileError(this.output, `ffmpeg cannot write it: ${line}`);
    return new ModelFileError(
      this.output,
      status.code === 0
        ? `ffmpeg stopped reading frames (${this.pipeError?.message})`
        : exitDescription('ffmpeg', status.code, status.signal),
    );
  }

  private settle(state: SinkState): void {
    this.state = state;
    process.off('exit', this.cleanupOnExit);
  }
}

function encoderArgs(o: FrameSinkOptions, temp: string): string[] {
  // yuv420p (what players accept) needs even sizes: pad odd ones by a pixel rather than crop a row of the frame.
  return [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-v',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${o.width}x${o.height}`,
    '-r',
    String(o.fps),
    '-i',
    'pipe:0',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    temp,
  ];
}

/**
 * Frames as frame_00000.jpg… On abort, the frames this sink wrote are removed only when this sink created the
 * directory (which is then removed too, if empty); in a directory that existed they stay, since they may have
 * replaced same-named frames of an earlier run that cannot be brought back.
 */
class DirectorySink implements FrameSink {
  readonly kind = 'frames';
  private readonly created: boolean;
  private readonly written: string[] = [];
  private state: SinkState = 'open';

  constructor(
    readonly output: string,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.created = !statOrUndefined(output);
    if (this.created) mkdirSync(output);
  }

  get framesWritten(): number {
    return this.written.length;
  }

  async write(frame: RgbaImage): Promise<void> {
    if (this.state !== 'open') throw new Error(`${this.output}: the sink is already ${this.state}`);
    checkFrameSize(frame, this.width, this.height, this.written.length);
    const path = join(this.output, `frame_${String(this.written.length).padStart(5, '0')}.jpg`);
    try {
      await saveImage(frame, path);
    } catch (e) {
      throw new ModelFileError(path, `cannot be written: ${(e as Error).message}`);
    }
    this.written.push(path);
  }

  async finish(): Promise<void> {
    this.state = 'finished';
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    if (!this.created) return;
    for (const path of this.written) rmSync(path, { force: true });
    try {
      rmdirSync(this.output);
    } catch {
      // Not empty: someone else put files there meanwhile; they stay.
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes and their stderr

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The spawn failed (ENOENT: not installed). */
  error?: Error;
}

/** Resolves once the process has exited and its pipes closed, or failed to start; never rejects. */
function exitOf(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** SIGKILL unless already gone; resolves when it has exited (Node reaps it, so no zombie stays). */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

/** Waits for the first of some events on a stream, or a promise; removes its listeners after. */
function firstOf(stream: NodeJS.EventEmitter, events: string[], other: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.once(e, done);
    other.then(done);
  });
}

const KEPT_LINES = 12;
const MAX_LINE_CHARS = 500;

/** Reads a stderr pipe to its end, keeping only its first and last lines (bounded memory) and counting them. */
class StderrLog {
  private readonly head: string[] = [];
  private readonly tail: string[] = [];
  lineCount = 0;
  readonly ended: Promise<void>;
  private partial = '';

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => this.add(text));
    this.ended = new Promise((resolve) => {
      stream.once('close', () => {
        this.addLine(this.partial);
        this.partial = '';
        resolve();
      });
      stream.on('error', () => resolve());
    });
  }

  /** The first and the last lines kept, in order. */
  get lines(): string[] {
    return [...this.head, ...this.tail];
  }

  private add(text: string): void {
    const lines = (this.partial + text).split(/\r?\n|\r/);
    this.partial = lines.pop()!.slice(0, MAX_LINE_CHARS);
    for (const line of lines) this.addLine(line);
  }

  private addLine(raw: string): void {
    const line = raw.trim().slice(0, MAX_LINE_CHARS);
    if (!line) return;
    this.lineCount++;
    if (this.head.length < KEPT_LINES) this.head.push(line);
    else this.tail.push(line);
    if (this.tail.length > KEPT_LINES) this.tail.shift();
  }
}

// Summary lines ffmpeg adds after the real reason (or repeating it); the reason is a line before them.
const GENERIC_LINES = new RegExp(
  '^(Conversion failed!|Error while (decoding|processing|filtering)|Error initializing' +
    '|Could not write header|Error opening (output|input)|Exiting normally|Error (marking|closing) filters' +
    '|Last message repeated)',
  'i',
);

/**
 * The first line that says what went wrong, without ffmpeg's "[h264 @ 0x55…]" context address or the file's name
 * (ModelFileError adds it): "h264: Invalid NAL unit size (223 > 4)."
 */
function meaningfulLine(
  lines: readonly string[],
  file?: string,
  which: 'first' | 'last' = 'first',
): string | undefined {
  const cleaned = lines.map((l) => cleanLine(l, file)).filter(Boolean);
  const specific = cleaned.filter((l) => !GENERIC_LINES.test(l));
  return which === 'first' ? (specific[0] ?? cleaned[0]) : (specific.at(-1) ?? cleaned.at(-1));
}

function cleanLine(line: string, file?: string): string {
  let l = line
    .trim()
    .replace(/^\[NULL @ 0x[0-9a-f]+\]\s*/i, '')
    .replace(/^\[([^\]@]+?) @ 0x[0-9a-f]+\]\s*/i, '$1: ');
  for (const name of file ? [file, resolve(file)] : []) {
    if (l.startsWith(`${name}: `)) l = l.slice(name.length + 2);
  }
  return l.trim();
}

function exitDescription(tool: string, code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `${tool} was killed by ${signal}` : `${tool} exited with code ${code}`;
}

/** ENOENT (not installed) becomes a UsageError saying how to install ffmpeg; other spawn failures name the file. */
function toolError(error: Error, tool: string, file?: string): Error {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
    return file ? new ModelFileError(file, `cannot run ${tool}: ${error.message}`) : error;
  }
  return new UsageError(
    `${file ? `${file}: ` : ''}this needs ffmpeg (${tool} was not found): npm run setup installs ` +
      'it on Debian, or apt-get install ffmpeg; or use a directory of .jpg/.png frames instead of a video',
  );
}
