// Darknet's input preparation, reproduced in float32 arithmetic step by step so the network sees the
// same values as in Darknet: 8-bit RGB → /255, its two-pass align-corners bilinear resize_image, and
// letterbox_image (aspect kept, pasted centred on a 0.5 grey canvas). Output is HWC (NHWC's one image).
import type { RgbaImage } from '../../io/image.js';

const f32 = Math.fround;

/** A planar float image, Darknet's `image` struct (CHW). */
interface Planar {
  w: number;
  h: number;
  c: number;
  data: Float32Array;
}

function toPlanar(img: RgbaImage): Planar {
  const { width: w, height: h } = img;
  const data = new Float32Array(3 * w * h);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < w * h; i++) data[k * w * h + i] = img.data[4 * i + k] / 255;
  }
  return { w, h, c: 3, data };
}

/** Darknet's resize_image: horizontal pass then vertical, source coordinate c·(in−1)/(out−1). */
function resizeImage(im: Planar, w: number, h: number): Planar {
  const part = new Float32Array(w * im.h * im.c);
  const resized = new Float32Array(w * h * im.c);
  const wScale = f32((im.w - 1) / (w - 1));
  const hScale = f32((im.h - 1) / (h - 1));
  const at = (p: Float32Array, pw: number, ph: number, x: number, y: number, k: number) => p[k * pw * ph + y * pw + x];
  for (let k = 0; k < im.c; k++) {
    for (let r = 0; r < im.h; r++) {
      for (let c = 0; c < w; c++) {
        let val: number;
        if (c === w - 1 || im.w === 1) {
          val = at(im.data, im.w, im.h, im.w - 1, r, k);
        } else {
          const sx = f32(c * wScale);
          const ix = Math.trunc(sx);
          const dx = f32(sx - ix);
          val = f32(
            f32(f32(1 - dx) * at(im.data, im.w, im.h, ix, r, k)) + f32(dx * at(im.data, im.w, im.h, ix + 1, r, k)),
          );
        }
        part[k * w * im.h + r * w + c] = val;
      }
    }
  }
  for (let k = 0; k < im.c; k++) {
    for (let r = 0; r < h; r++) {
      const sy = f32(r * hScale);
      const iy = Math.trunc(sy);
      const dy = f32(sy - iy);
      for (let c = 0; c < w; c++) resized[k * w * h + r * w + c] = f32(f32(1 - dy) * part[k * w * im.h + iy * w + c]);
      if (r === h - 1 || im.h === 1) continue;
      for (let c = 0; c < w; c++) {
        const i = k * w * h + r * w + c;
        resized[i] = f32(resized[i] + f32(dy * part[k * w * im.h + (iy + 1) * w + c]));
      }
    }
  }
  return { w, h, c: im.c, data: resized };
}

export interface LetterboxResult {
  /** HWC float32, net height × net width × 3. */
  data: Float32Array;
  /** The resized image's size inside the canvas (Darknet's new_w/new_h), for box correction. */
  newW: number;
  newH: number;
}

/** Darknet's letterbox_image: resize keeping the aspect ratio, centre on a 0.5 canvas. */
export function letterbox(img: RgbaImage, netW: number, netH: number): LetterboxResult {
  let newW: number, newH: number;
  if (f32(netW / img.width) < f32(netH / img.height)) {
    newW = netW;
    newH = Math.trunc((img.height * netW) / img.width);
  } else {
    newH = netH;
    newW = Math.trunc((img.width * netH) / img.height);
  }
  const resized = resizeImage(toPlanar(img), newW, newH);
  const data = new Float32Array(netW * netH * 3).fill(0.5);
  const dx = Math.trunc((netW - newW) / 2),
    dy = Math.trunc((netH - newH) / 2);
  for (let k = 0; k < 3; k++)
    for (let y = 0; y < newH; y++)
      for (let x = 0; x < newW; x++)
        data[((y + dy) * netW + x + dx) * 3 + k] = resized.data[k * newW * newH + y * newW + x];
  return { data, newW, newH };
}

/** A plain stretch to net size with the same resize (AlexeyAB's default without letter_box). */
export function stretch(img: RgbaImage, netW: number, netH: number): LetterboxResult {
  const resized = resizeImage(toPlanar(img), netW, netH);
  const data = new Float32Array(netW * netH * 3);
  for (let k = 0; k < 3; k++) for (let i = 0; i < netW * netH; i++) data[i * 3 + k] = resized.data[k * netW * netH + i];
  return { data, newW: netW, newH: netH };
}
