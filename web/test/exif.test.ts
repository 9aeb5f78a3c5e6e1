import { describe, expect, it } from 'vitest';
import { exifOrientation, stripJpegMetadata } from '../src/exif';

function segment(marker: number, payload: number[]): number[] {
  const length = payload.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...payload];
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

// A minimal JPEG layout: SOI, APP0 (JFIF), APP1 (Exif with a GPS tag
// name), APP1 (XMP), DQT, SOS with scan data, EOI.
const jfif = segment(0xe0, ascii('JFIF\0\x01\x01'));
const exif = segment(0xe1, [...ascii('Exif\0\0'), ...ascii('GPSLatitude 52.37')]);
const xmp = segment(0xe1, ascii('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>'));
const dqt = segment(0xdb, [0, 1, 2, 3]);
const scan = [...segment(0xda, [1, 2, 3]), 0x12, 0x34, 0xff, 0x00, 0x56, 0xff, 0xd9];

describe('stripJpegMetadata', () => {
  it('removes Exif and XMP and keeps the rest byte for byte', () => {
    const input = new Uint8Array([0xff, 0xd8, ...jfif, ...exif, ...xmp, ...dqt, ...scan]);
    const out = stripJpegMetadata(input);
    expect([...out]).toEqual([0xff, 0xd8, ...jfif, ...dqt, ...scan]);
    expect(new TextDecoder().decode(out)).not.toContain('GPS');
  });

  it('returns a JPEG without metadata unchanged', () => {
    const input = new Uint8Array([0xff, 0xd8, ...jfif, ...dqt, ...scan]);
    expect(stripJpegMetadata(input)).toBe(input);
  });

  it('returns data that is not a JPEG unchanged', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(stripJpegMetadata(png)).toBe(png);
  });

  it('returns a truncated JPEG unchanged', () => {
    const input = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x40, 0x00, 1, 2, 3]);
    expect(stripJpegMetadata(input)).toBe(input);
  });
});

/** Builds an Exif APP1 payload with IFD0 entries of type SHORT. */
function exifPayload(entries: [number, number][], little: boolean): number[] {
  const out: number[] = [...ascii('Exif\0\0')];
  const u16 = (v: number) => (little ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
  const u32 = (v: number) => (little ? [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24] : [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  out.push(...(little ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32(8), ...u16(entries.length));
  for (const [tag, value] of entries) out.push(...u16(tag), ...u16(3), ...u32(1), ...u16(value), 0, 0);
  out.push(...u32(0));
  return out;
}

describe('orientation', () => {
  it.each([true, false])('reads the tag in either byte order (little-endian %s)', (little) => {
    const payload = new Uint8Array(exifPayload([[0x010f, 7], [0x0112, 6]], little));
    expect(exifOrientation(payload)).toBe(6);
  });

  it('keeps a rotation as the only Exif tag', () => {
    const gps = [...exifPayload([[0x0112, 6], [0x8825, 1234]], false), ...ascii('GPSLatitude 52.37')];
    const input = new Uint8Array([0xff, 0xd8, ...segment(0xe1, gps), ...dqt, ...scan]);
    const out = stripJpegMetadata(input);
    expect(new TextDecoder().decode(out)).not.toContain('GPS');
    // SOI, then the new APP1 with orientation 6, then the rest unchanged.
    expect(out[2]).toBe(0xff);
    expect(out[3]).toBe(0xe1);
    const length = (out[4] << 8) | out[5];
    expect(exifOrientation(out.subarray(6, 4 + length))).toBe(6);
    expect([...out.subarray(4 + length)]).toEqual([...dqt, ...scan]);
  });

  it('drops an upright orientation with the rest', () => {
    const input = new Uint8Array([0xff, 0xd8, ...segment(0xe1, exifPayload([[0x0112, 1]], true)), ...dqt, ...scan]);
    expect([...stripJpegMetadata(input)]).toEqual([0xff, 0xd8, ...dqt, ...scan]);
  });

  it('returns 1 for XMP and malformed Exif', () => {
    expect(exifOrientation(new Uint8Array(ascii('http://ns.adobe.com/xap/1.0/\0<x/>')))).toBe(1);
    expect(exifOrientation(new Uint8Array([...ascii('Exif\0\0'), 0x49, 0x49, 42, 0, 0xff, 0xff, 0, 0]))).toBe(1);
  });
});
