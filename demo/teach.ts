// The demo's teach mode: transfer learning in the page. A base model (any Keras file the library
// reads, cut at a chosen layer) turns a few example images per class (files or webcam frames) into
// codes; a dense head trains on them on the GPU with a live loss curve; then the head classifies the
// current image or the webcam live, and the trained head, or base + head as one model, downloads as a
// .keras file that Keras's load_model reads. Uses only the library's public API.
import {
  computeCodes,
  decodeImage,
  fromImageSource,
  fullModel,
  headModel,
  loadCodeBase,
  loadKerasModel,
  saveKerasModel,
  trainHead,
  type CodeBase,
  type CodeOptions,
  type EpochMetrics,
  type GpuContext,
  type HeadSpec,
  type HeadWeights,
  type Model,
  type RgbaImage,
} from '../src/index.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface ClassRow {
  name: HTMLInputElement;
  images: RgbaImage[];
  count: HTMLElement;
}

export interface TeachHooks {
  /** The image the rest of the page shows now (to classify it after training). */
  current(): RgbaImage | undefined;
  /** A frame of the running webcam, if any. */
  webcamFrame(): RgbaImage | undefined;
}

export function setUpTeach(ctx: GpuContext, hooks: TeachHooks): { classify(img: RgbaImage): Promise<void> } {
  const rows: ClassRow[] = [];
  let base: CodeBase | undefined;
  let head: { model: Model; spec: HeadSpec; weights: HeadWeights; names: string[] } | undefined;
  let live = false;
  const status = (text: string) => {
    $('teach-status').textContent = text;
  };
  const codeOptions = (): CodeOptions => ({
    pooling: ($<HTMLSelectElement>('teach-pooling').value || undefined) as 'avg' | 'max' | undefined,
    preprocess: $<HTMLSelectElement>('teach-preprocess').value as CodeOptions['preprocess'],
  });

  function addClass(): void {
    const row = document.createElement('div');
    row.className = 'teach-class';
    const name = Object.assign(document.createElement('input'), {
      value: `class ${rows.length + 1}`,
      className: 'teach-name',
      size: 10,
    });
    const files = Object.assign(document.createElement('input'), {
      type: 'file',
      multiple: true,
      accept: 'image/*',
      className: 'teach-files',
    });
    const snap = Object.assign(document.createElement('button'), {
      textContent: 'webcam frame',
      className: 'teach-snap',
    });
    const count = Object.assign(document.createElement('span'), { textContent: '0 images', className: 'teach-count' });
    const entry: ClassRow = { name, images: [], count };
    const update = () => {
      count.textContent = `${entry.images.length} images`;
    };
    files.addEventListener('change', async () => {
      for (const f of Array.from(files.files ?? [])) entry.images.push(await decodeImage(f));
      update();
    });
    snap.addEventListener('click', () => {
      const frame = hooks.webcamFrame();
      if (!frame) return status('start the webcam first (the button under the picture)');
      entry.images.push(frame);
      update();
    });
    row.append(name, files, snap, count);
    $('teach-classes').append(row);
    rows.push(entry);
  }

  function drawCurve(history: EpochMetrics[], epochs: number): void {
    const canvas = $<HTMLCanvasElement>('teach-curve');
    const g = canvas.getContext('2d')!;
    g.clearRect(0, 0, canvas.width, canvas.height);
    const max = Math.max(...history.flatMap((h) => [h.loss, h.valLoss ?? 0]), 1e-6);
    const line = (values: number[], colour: string) => {
      g.strokeStyle = colour;
      g.beginPath();
      values.forEach((v, i) => {
        const x = (i / Math.max(1, epochs - 1)) * (canvas.width - 8) + 4,
          y = canvas.height - 4 - (v / max) * (canvas.height - 8);
        if (i) g.lineTo(x, y);
        else g.moveTo(x, y);
      });
      g.stroke();
    };
    line(
      history.map((h) => h.loss),
      '#36c',
    );
    canvas.dataset.points = String(history.length);
    canvas.dataset.losses = history.map((h) => h.loss.toFixed(5)).join(',');
  }

  async function train(): Promise<void> {
    const file = $<HTMLInputElement>('teach-base').files?.[0];
    if (!file) return status('choose a base model file first');
    const used = rows.filter((r) => r.images.length);
    if (used.length < 2) return status('give images for at least two classes');
    $<HTMLButtonElement>('teach-train').disabled = true;
    try {
      status(`loading ${file.name}…`);
      base?.dispose();
      base = await loadCodeBase(ctx, file, $<HTMLInputElement>('teach-layer').value.trim() || undefined);
      const images = used.flatMap((r) => r.images);
      status(`codes for ${images.length} images (${base.layer})…`);
      const codes = await computeCodes(base, images, codeOptions());
      const inputs = codes.length / images.length;
      const targets = new Float32Array(images.length * used.length);
      let row = 0;
      used.forEach((r, c) =>
        r.images.forEach(() => {
          targets[row++ * used.length + c] = 1;
        }),
      );
      const spec: HeadSpec = {
        inputs,
        hidden: [Number($<HTMLInputElement>('teach-hidden').value)],
        dropout: 0.5,
        classes: used.length,
        output: 'softmax',
      };
      const epochs = Number($<HTMLInputElement>('teach-epochs').value);
      const history: EpochMetrics[] = [];
      const result = await trainHead(
        ctx,
        { features: codes, targets, rows: images.length },
        {
          spec,
          epochs,
          batchSize: Math.min(16, images.length),
          optimizer: { kind: 'adam' },
          seed: 1,
          onEpoch: async (m) => {
            history.push(m);
            drawCurve(history, epochs);
            status(`epoch ${m.epoch}/${epochs}: loss ${m.loss.toFixed(4)} · accuracy ${m.accuracy.toFixed(3)}`);
            await new Promise((r) => setTimeout(r, 0)); // let the page draw the curve
          },
        },
      );
      head?.model.dispose();
      // The head in the page is the saved file read back: what downloads is what classifies.
      const { model } = await loadKerasModel(await saveKerasModel(headModel(spec, result.weights), 'keras'), {
        ctx,
        name: 'head.keras',
      });
      head = { model, spec, weights: result.weights, names: used.map((r) => r.name.value) };
      status(
        `trained: ${result.history.length} epochs, final loss ${result.history.at(-1)!.loss.toFixed(4)}, ` +
          `${result.stepsPerSecond.toFixed(0)} steps/s`,
      );
      $<HTMLButtonElement>('teach-download').disabled = false;
      $<HTMLButtonElement>('teach-download-full').disabled = false;
      document.body.dataset.taught = '1';
      const img = hooks.current();
      if (img) await classify(img);
    } catch (e) {
      status(String((e as Error).message));
    } finally {
      $<HTMLButtonElement>('teach-train').disabled = false;
    }
  }

  async function classify(img: RgbaImage): Promise<void> {
    if (!head || !base) return;
    const code = await computeCodes(base, [img], codeOptions());
    const probs = await head.model.predict(code, 1);
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    $('teach-result').innerHTML = order
      .map((i) => `<tr><td>${head!.names[i]}</td><td class="num">${probs[i].toFixed(3)}</td></tr>`)
      .join('');
    document.body.dataset.teachTop = head.names[order[0]];
  }

  async function download(full: boolean): Promise<void> {
    if (!head || !base) return;
    const model = full
      ? fullModel(
          { spec: base.loaded.spec, graph: base.loaded.graph, weights: base.loaded.weights },
          base.layer,
          codeOptions().pooling,
          head.spec,
          head.weights,
        )
      : headModel(head.spec, head.weights);
    const bytes = await saveKerasModel(model, 'keras');
    const a = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/zip' })),
      download: full ? 'model.keras' : 'head.keras',
    });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  async function liveLoop(): Promise<void> {
    live = !live;
    $('teach-live').textContent = live ? 'stop live' : 'classify the webcam live';
    while (live) {
      const frame = hooks.webcamFrame();
      if (!frame) {
        status('start the webcam first (the button under the picture)');
        live = false;
        break;
      }
      await classify(frame);
      await new Promise((r) => requestAnimationFrame(r));
    }
  }

  addClass();
  addClass();
  $('teach-add').addEventListener('click', addClass);
  $('teach-train').addEventListener('click', () => void train());
  $('teach-download').addEventListener('click', () => void download(false));
  $('teach-download-full').addEventListener('click', () => void download(true));
  $('teach-live').addEventListener('click', () => void liveLoop());
  return { classify };
}

/** A frame of a playing video element, or nothing. */
export function videoFrame(video: HTMLVideoElement): RgbaImage | undefined {
  return video.srcObject && !video.paused && video.videoWidth ? fromImageSource(video) : undefined;
}
