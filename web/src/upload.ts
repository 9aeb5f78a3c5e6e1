// Uploads a file to the media store with XMLHttpRequest, whose upload
// events report progress (fetch has no upload progress in browsers yet).

import { ApiError, networkError } from './api';
import type { Media } from './types';

export function uploadMedia(
  file: File,
  token: string,
  onProgress: (fraction: number) => void,
): { promise: Promise<Media>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Media>((resolve, reject) => {
    xhr.open('POST', '/api/v1/media');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    };
    xhr.onload = () => {
      let body: any = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: handled by the status check below.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        onProgress(1);
        resolve(body as Media);
        return;
      }
      reject(
        new ApiError(
          xhr.status,
          body?.error ?? `http_${xhr.status}`,
          body?.message ?? `The upload failed with status ${xhr.status}.`,
          body?.retry_after_ms ?? 0,
        ),
      );
    };
    xhr.onerror = () => reject(networkError());
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
