// A page's entry: what a bundler (esbuild, platform 'browser') must resolve to the package's
// browser build without errors. test/package.test.ts type-checks and bundles it.
import { Detector, GpuContext, decodeImage, type Detection } from 'webgpu-cnn';

/** Detects in an image the page was given and lists what it found. */
export async function detectOnPage(image: Blob): Promise<string[]> {
  const ctx = await GpuContext.create();
  const detector = await Detector.load({ ctx });
  try {
    const result = await detector.detect(await decodeImage(image));
    return result.detections.map((d: Detection) => `${d.className} ${d.score.toFixed(2)}`);
  } finally {
    detector.dispose();
    ctx.dispose();
  }
}
