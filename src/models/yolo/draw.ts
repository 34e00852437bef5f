// Annotated images: a box per detection in its class's colour (Darknet's palette rule), with a
// filled label "class score" above it.
import type { RgbaImage } from '../../io/image.js';
import { glyph, GLYPH_H, GLYPH_W } from './font.js';
import type { Detection } from './yolo.js';

const PALETTE = [
  [1, 0, 1],
  [0, 0, 1],
  [0, 1, 1],
  [0, 1, 0],
  [1, 1, 0],
  [1, 0, 0],
];

/** Darknet's get_color: a colour per class spread over the palette. */
export function classColor(classIndex: number, classes: number): [number, number, number] {
  const offset = (classIndex * 123457) % Math.max(classes, 1);
  const channel = (c: number) => {
    const ratio = (offset / Math.max(classes, 1)) * 5;
    const i = Math.floor(ratio),
      j = Math.ceil(ratio);
    const r = ratio - i;
    return Math.round(255 * ((1 - r) * PALETTE[i][c] + r * PALETTE[j][c]));
  };
  return [channel(2), channel(1), channel(0)];
}

function fillRect(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, rgb: readonly number[]): void {
  const xa = Math.max(0, Math.floor(x0)),
    xb = Math.min(img.width - 1, Math.floor(x1));
  const ya = Math.max(0, Math.floor(y0)),
    yb = Math.min(img.height - 1, Math.floor(y1));
  for (let y = ya; y <= yb; y++)
    for (let x = xa; x <= xb; x++) {
      const i = (y * img.width + x) * 4;
      img.data[i] = rgb[0];
      img.data[i + 1] = rgb[1];
      img.data[i + 2] = rgb[2];
      img.data[i + 3] = 255;
    }
}

function drawText(img: RgbaImage, text: string, x: number, y: number, scale: number, rgb: readonly number[]): void {
  [...text].forEach((ch, k) => {
    glyph(ch).forEach((row, r) => {
      for (let c = 0; c < GLYPH_W; c++) {
        if (row[c] !== '#') continue;
        const px = x + (k * (GLYPH_W + 1) + c) * scale,
          py = y + r * scale;
        fillRect(img, px, py, px + scale - 1, py + scale - 1, rgb);
      }
    });
  });
}

/** A copy of `image` with the detections drawn. */
export function drawDetections(image: RgbaImage, detections: Detection[], classes: number): RgbaImage {
  const img = { width: image.width, height: image.height, data: Uint8Array.from(image.data) };
  const thick = Math.max(1, Math.floor(img.height * 0.006));
  const scale = Math.max(1, Math.round(img.height / 300));
  for (const d of detections) {
    const color = classColor(d.classIndex, classes);
    const { x1, y1, x2, y2 } = d.box;
    fillRect(img, x1, y1, x2, y1 + thick - 1, color);
    fillRect(img, x1, y2 - thick + 1, x2, y2, color);
    fillRect(img, x1, y1, x1 + thick - 1, y2, color);
    fillRect(img, x2 - thick + 1, y1, x2, y2, color);
    const label = `${d.className} ${d.score.toFixed(2)}`;
    const w = label.length * (GLYPH_W + 1) * scale + 2 * scale,
      h = (GLYPH_H + 2) * scale;
    const top = y1 - h >= 0 ? y1 - h : y1;
    fillRect(img, x1, top, x1 + w, top + h - 1, color);
    drawText(img, label, x1 + scale, top + scale, scale, [0, 0, 0]);
  }
  return img;
}
