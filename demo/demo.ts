// The demo page: detection on dropped images, video files and the webcam with the bundled detector,
// classification with a user's Keras file, per-layer times, and the teach mode (demo/teach.ts: transfer
// learning in the page). Uses only the library's public API.
import {
  decodeImage,
  decodePredictions,
  Detector,
  drawDetections,
  fromImageSource,
  GpuContext,
  imageToArray,
  loadKerasModel,
  preprocessInput,
  resizeImage,
  type Detection,
  type Model,
  type RgbaImage,
} from '../src/index.js';
import { setUpTeach, videoFrame } from './teach.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const canvas = $<HTMLCanvasElement>('canvas');
const g = canvas.getContext('2d')!;
let ctx: GpuContext;
let detector: Detector;
let current: RgbaImage | undefined;
let keras: Model | undefined;
let streaming = false;
let teach: ReturnType<typeof setUpTeach> | undefined;

function fail(message: string): void {
  status.className = 'error';
  status.textContent = message;
}

function show(img: RgbaImage): void {
  canvas.width = img.width;
  canvas.height = img.height;
  g.putImageData(new ImageData(Uint8ClampedArray.from(img.data), img.width, img.height), 0, 0);
}

function listBoxes(detections: Detection[]): void {
  const body = $('boxes').querySelector('tbody')!;
  body.innerHTML = '';
  for (const d of detections) {
    const tr = document.createElement('tr');
    tr.innerHTML =
      `<td>${d.className}</td><td class="num">${d.score.toFixed(2)}</td>` +
      `<td>(${d.box.x1}, ${d.box.y1}) (${d.box.x2}, ${d.box.y2})</td>`;
    body.append(tr);
  }
}

async function detectImage(img: RgbaImage, profile: boolean): Promise<void> {
  const r = await detector.detect(img, {
    thresh: Number($<HTMLInputElement>('thresh').value),
    nms: Number($<HTMLInputElement>('nms').value),
    profile,
  });
  show(drawDetections(img, r.detections, detector.network.heads[0].classes));
  listBoxes(r.detections);
  $('times').textContent =
    `letterbox ${r.timings.preprocessMs.toFixed(1)} ms · network ${r.timings.inferenceMs.toFixed(1)} ms · ` +
    `decode + NMS ${r.timings.postprocessMs.toFixed(1)} ms`;
  if (r.layers) {
    $('layers').querySelector('tbody')!.innerHTML = r.layers
      .map(
        (l) =>
          `<tr><td>${l.fused.join('+')}</td><td>${l.kernels.join(', ')}</td>` +
          `<td class="num">${l.ms.toFixed(2)} ms</td></tr>`,
      )
      .join('');
  }
  document.body.dataset.detections = String(r.detections.length);
}

async function useImage(source: Blob | string): Promise<void> {
  stopStream();
  try {
    current = await decodeImage(source);
    await detectImage(current, true);
    await classify();
    await teach?.classify(current);
  } catch (e) {
    fail(String((e as Error).message));
  }
}

async function classify(): Promise<void> {
  if (!keras || !current) return;
  const [h, w, c] = keras.inputShapes[0];
  const pixels = imageToArray(resizeImage(current, w, h, 'nearest'), c === 1 ? 1 : 3);
  const classes = keras.outputShapes[0].at(-1)!;
  const x = classes === 1000 ? preprocessInput(pixels, 'caffe') : pixels.map((v) => v / 255);
  const probs = await keras.predict(x);
  const rows =
    classes === 1000
      ? decodePredictions(probs, 5)[0].map((p) => [`${p.label} (${p.wnid})`, p.probability])
      : Array.from(probs.keys())
          .sort((a, b) => probs[b] - probs[a])
          .slice(0, 5)
          .map((i) => [`class ${i}`, probs[i]]);
  $('top5').querySelector('tbody')!.innerHTML = rows
    .map(([l, p]) => `<tr><td>${l}</td><td class="num">${(p as number).toFixed(4)}</td></tr>`)
    .join('');
}

function stopStream(): void {
  streaming = false;
  const video = $<HTMLVideoElement>('video');
  (video.srcObject as MediaStream | null)?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  video.pause();
  $<HTMLButtonElement>('stop').disabled = true;
}

async function stream(video: HTMLVideoElement): Promise<void> {
  streaming = true;
  $<HTMLButtonElement>('stop').disabled = false;
  await video.play();
  let frames = 0;
  const start = performance.now();
  while (streaming && !video.ended) {
    const frame = fromImageSource(video);
    await detectImage(frame, false);
    frames++;
    $('fps').textContent = `${(frames / ((performance.now() - start) / 1000)).toFixed(1)} frames/s`;
  }
}

async function main(): Promise<void> {
  if (!('gpu' in navigator)) {
    fail(
      'WebGPU is not available in this browser.\n' +
        'Use Chrome or Edge 113+ (on Linux start Chromium with --enable-unsafe-webgpu, ' +
        'or enable chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows.',
    );
    return;
  }
  try {
    ctx = await GpuContext.create();
  } catch (e) {
    fail(`WebGPU adapter request failed: ${(e as Error).message}`);
    return;
  }
  status.textContent = `Adapter: ${ctx.description} · loading the detector…`;
  detector = await Detector.load({ ctx });
  status.textContent = `Adapter: ${ctx.description}`;
  document.body.dataset.ready = '1';

  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void useImage(file);
  });
  $<HTMLInputElement>('image-file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void useImage(file);
  });
  for (const id of ['thresh', 'nms']) {
    $<HTMLInputElement>(id).addEventListener('input', () => {
      $(`${id}-v`).textContent = Number($<HTMLInputElement>(id).value).toFixed(2);
      if (current && !streaming) void detectImage(current, false);
    });
  }
  $<HTMLInputElement>('keras-file').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    $('keras-status').textContent = `loading ${file.name}…`;
    try {
      keras?.dispose();
      keras = (await loadKerasModel(file, { ctx })).model;
      $('keras-status').textContent =
        `${file.name}: input [${keras.inputShapes[0].join(', ')}] → [${keras.outputShapes[0].join(', ')}]`;
      await classify();
    } catch (err) {
      $('keras-status').textContent = String((err as Error).message);
    }
  });
  $<HTMLInputElement>('video-file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    stopStream();
    const video = $<HTMLVideoElement>('video');
    video.src = URL.createObjectURL(file);
    void stream(video).catch((err) => fail(String(err)));
  });
  $('webcam').addEventListener('click', async () => {
    stopStream();
    try {
      const video = $<HTMLVideoElement>('video');
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
      await stream(video);
    } catch (err) {
      fail(`webcam: ${(err as Error).message}`);
    }
  });
  $('stop').addEventListener('click', stopStream);
  teach = setUpTeach(ctx, { current: () => current, webcamFrame: () => videoFrame($<HTMLVideoElement>('video')) });
  await useImage(new URL('../assets/images/dog.jpg', location.href).href);
}

void main();
