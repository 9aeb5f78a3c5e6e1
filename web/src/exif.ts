// Removes location metadata from JPEG files before upload: the server
// stores and serves originals byte for byte, so a photo's GPS position
// would otherwise reach everyone who can download it.

/**
 * Returns the JPEG without its APP1 segments, which hold Exif (with its
 * GPS block) and XMP. An Exif orientation other than "upright" comes back
 * as a new APP1 segment with that one tag, so rotated phone photos still
 * show upright. Other segments, such as JFIF, ICC profiles and the image
 * data, are kept byte for byte. Data that is not a well-formed JPEG comes
 * back unchanged.
 */
export function stripJpegMetadata(input: Uint8Array): Uint8Array {
  if (input.length < 4 || input[0] !== 0xff || input[1] !== 0xd8) return input;

  const parts: Uint8Array[] = [input.subarray(0, 2)];
  let pos = 2;
  let removed = false;
  let keptOrientation = false;
  while (pos + 4 <= input.length) {
    if (input[pos] !== 0xff) return input;
    const marker = input[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      parts.push(input.subarray(pos, pos + 2));
      pos += 2;
      continue;
    }

    const length = (input[pos + 2] << 8) | input[pos + 3];
    if (length < 2 || pos + 2 + length > input.length) return input;
    if (marker === 0xda) {
      // Start of scan: entropy-coded data to the end follows.
      parts.push(input.subarray(pos));
      pos = input.length;
      break;
    }
    if (marker === 0xe1) {
      const orientation = keptOrientation ? 1 : exifOrientation(input.subarray(pos + 4, pos + 2 + length));
      if (orientation > 1) {
        parts.push(orientationSegment(orientation));
        keptOrientation = true;
      }
      removed = true;
    } else {
      parts.push(input.subarray(pos, pos + 2 + length));
    }
    pos += 2 + length;
  }
  if (!removed) return input;

  if (pos < input.length) parts.push(input.subarray(pos));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const ORIENTATION_TAG = 0x0112;

/**
 * Returns the orientation tag (1 to 8) of IFD0 in an APP1 payload, or 1
 * when the payload is not Exif or has no valid tag.
 */
export function exifOrientation(payload: Uint8Array): number {
  if (payload.length < 14 || EXIF_HEADER.some((b, i) => payload[i] !== b)) return 1;
  const tiff = payload.subarray(6);
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"; "MM" is big-endian
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Builds an APP1 segment whose Exif holds only the orientation tag. */
function orientationSegment(orientation: number): Uint8Array {
  const tiff = [
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, // little-endian header, IFD0 at 8
    0x01, 0x00, // one entry
    0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00, // SHORT, count 1
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ];
  const length = 2 + EXIF_HEADER.length + tiff.length;
  return new Uint8Array([0xff, 0xe1, length >> 8, length & 0xff, ...EXIF_HEADER, ...tiff]);
}

/** Returns the file with JPEG metadata stripped, or the file itself. */
export async function prepareUpload(file: File): Promise<File> {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] !== 0xff || head[1] !== 0xd8) return file;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const stripped = stripJpegMetadata(bytes);
  if (stripped === bytes) return file;
  return new File([stripped as BlobPart], file.name, { type: file.type || 'image/jpeg', lastModified: file.lastModified });
}
