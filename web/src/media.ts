// Media is served only with the bearer token, so images cannot use the
// media URL in src. This cache fetches each file once and shares one blob:
// URL among the components that show it, revoking the URL when the last
// of them unmounts.

import { useEffect, useState } from 'preact/hooks';
import { api } from './store';

interface Entry {
  promise: Promise<string>;
  url?: string;
  users: number;
}

const entries = new Map<string, Entry>();

function acquire(path: string): Entry {
  let entry = entries.get(path);
  if (!entry) {
    const created: Entry = { users: 0, promise: Promise.resolve('') };
    created.promise = api.blob(path).then((blob) => {
      created.url = URL.createObjectURL(blob);
      return created.url;
    });
    entry = created;
    entries.set(path, entry);
  }
  entry.users += 1;
  return entry;
}

function release(path: string): void {
  const entry = entries.get(path);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  entries.delete(path);
  if (entry.url) URL.revokeObjectURL(entry.url);
  else entry.promise.then((url) => url && URL.revokeObjectURL(url), () => undefined);
}

/** Returns a blob: URL for an API path, or an error text once it failed. */
export function useBlobUrl(path: string | null): { url?: string; error?: string } {
  const [state, setState] = useState<{ url?: string; error?: string }>({});
  useEffect(() => {
    if (!path) return;
    let live = true;
    const entry = acquire(path);
    entry.promise.then(
      (url) => live && setState({ url }),
      (err) => {
        if (live) setState({ error: err?.code === 'invalid_image' ? 'No preview' : 'Preview unavailable' });
        entries.delete(path);
      },
    );
    return () => {
      live = false;
      release(path);
    };
  }, [path]);
  return state;
}

/** The image types the server serves inline, which the client shows at full size. */
const VIEWABLE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Reports whether a media type is an image that the full-size view can show. */
export function isViewableImage(contentType: string): boolean {
  return VIEWABLE_IMAGES.has(contentType.split(';')[0].trim().toLowerCase());
}

/**
 * Fetches a whole media file while the component shows it: the blob and
 * a blob: URL for it, revoked on unmount, or an error text.
 */
export function useMediaFile(id: string): { blob?: Blob; url?: string; error?: string } {
  const [state, setState] = useState<{ blob?: Blob; url?: string; error?: string }>({});
  useEffect(() => {
    let live = true;
    let url = '';
    api.blob(`/media/${id}`).then(
      (blob) => {
        if (!live) return;
        url = URL.createObjectURL(blob);
        setState({ blob, url });
      },
      () => live && setState({ error: 'The file could not be loaded.' }),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id]);
  return state;
}

/** Saves a blob under a file name through a short-lived blob: URL. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads a media file under its own name. */
export async function downloadMedia(id: string, filename: string): Promise<void> {
  saveBlob(await api.blob(`/media/${id}`), filename);
}
