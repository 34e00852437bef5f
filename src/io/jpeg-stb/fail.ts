// The one way a damaged JPEG stops decoding: decodeJpegStb turns it into a ModelFileError naming the file.

/** A reason the data cannot be decoded the way stb_image would (or can only be decoded into garbage). */
export class BadJpeg extends Error {}

export function fail(reason: string): never {
  throw new BadJpeg(reason);
}
