import { type ComponentChild, h, render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Dialog } from '../src/components/Dialog';
import { ImageView } from '../src/components/ImageView';
import { isViewableImage } from '../src/media';
import type { Media } from '../src/types';
import { CREATED, recordFetch, settle } from './fixtures';

let root: HTMLElement;
let opener: HTMLButtonElement;

async function show(node: ComponentChild): Promise<void> {
  await act(async () => {
    render(node, root);
    await settle();
  });
}

beforeEach(() => {
  opener = document.createElement('button');
  opener.textContent = 'Open';
  root = document.createElement('div');
  document.body.append(opener, root);
  opener.focus();
});

afterEach(() => {
  render(null, root);
  root.remove();
  opener.remove();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('Dialog', () => {
  const dialog = () => h(Dialog, { title: 'Test', onClose: () => undefined, children: h('input', { 'aria-label': 'Field' }) });

  it('gives the focus back to the opener on close', async () => {
    await show(dialog());
    root.querySelector('input')!.focus();
    expect(document.activeElement).not.toBe(opener);
    await show(null);
    expect(document.activeElement).toBe(opener);
  });

  it('leaves the focus alone when the opener is gone', async () => {
    await show(dialog());
    const field = root.querySelector('input')!;
    field.focus();
    opener.remove();
    await show(null);
    expect(document.activeElement).not.toBe(opener);
  });
});

describe('full-size image view', () => {
  const PHOTO: Media = {
    id: 'md1',
    filename: 'holiday.jpg',
    content_type: 'image/jpeg',
    size: 4,
    sha256: '',
    width: 320,
    height: 200,
    created_at: CREATED,
  };

  it('shows the file through a blob: URL and revokes it on close', async () => {
    const calls = recordFetch(() => new Response(new Blob([new Uint8Array([1, 2, 3, 4])], { type: 'image/jpeg' })));
    const create = vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:test/1');
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const onClose = vi.fn();
    await show(h(ImageView, { media: PHOTO, onClose }));
    await show(h(ImageView, { media: PHOTO, onClose }));

    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v1/media/md1']);
    expect(create).toHaveBeenCalledTimes(1);
    const img = root.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('blob:test/1');
    expect(img.getAttribute('alt')).toBe('holiday.jpg');
    expect(root.querySelector('h2')?.textContent).toBe('holiday.jpg');

    [...root.querySelectorAll('button')].find((b) => b.textContent === 'Close')!.click();
    expect(onClose).toHaveBeenCalledTimes(1);
    await show(null);
    expect(revoke).toHaveBeenCalledWith('blob:test/1');
  });

  it('names the types the browser shows inline', () => {
    expect(isViewableImage('image/png')).toBe(true);
    expect(isViewableImage('image/jpeg')).toBe(true);
    expect(isViewableImage('image/webp')).toBe(true);
    expect(isViewableImage('image/gif')).toBe(true);
    expect(isViewableImage('image/svg+xml')).toBe(false);
    expect(isViewableImage('application/octet-stream')).toBe(false);
  });
});
