// Removes location metadata from JPEG files before upload: the server
// stores and serves originals byte for byte, so a photo's GPS position
// would otherwise reach everyone who can download it.

/**
 * Returns the JPEG without its APP1 segments, which hold Exif (with its
 * GPS block) and XMP. Other segments, such as JFIF, ICC profiles and the
 * image data, are kept byte for byte. Data that is not a well-formed JPEG
 * comes back unchanged.
 */
export function stripJpegMetadata(input: Uint8Array): Uint8Array {
  if (input.length < 4 || input[0] !== 0xff || input[1] !== 0xd8) return input;
  const parts: Uint8Array[] = [input.subarray(0, 2)];
  let pos = 2;
  let removed = false;
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
    if (marker === 0xe1) removed = true;
    else parts.push(input.subarray(pos, pos + 2 + length));
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

/** Returns the file with JPEG metadata stripped, or the file itself. */
export async function prepareUpload(file: File): Promise<File> {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] !== 0xff || head[1] !== 0xd8) return file;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const stripped = stripJpegMetadata(bytes);
  if (stripped === bytes) return file;
  return new File([stripped as BlobPart], file.name, { type: file.type || 'image/jpeg', lastModified: file.lastModified });
}
