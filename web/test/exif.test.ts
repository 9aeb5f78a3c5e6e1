import { describe, expect, it } from 'vitest';
import { stripJpegMetadata } from '../src/exif';

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
