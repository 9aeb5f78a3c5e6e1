import { saveBlob, useMediaFile } from '../media';
import type { Media } from '../types';
import { Dialog } from './Dialog';

/** Renders an image attachment at full size in a dialog, with its name, a Download button and Close. */
export function ImageView({ media, onClose }: { media: Media; onClose: () => void }) {
  const file = useMediaFile(media.id);
  return (
    <Dialog title={media.filename} onClose={onClose} class="image-view">
      {file.url ? (
        <img src={file.url} alt={media.filename} />
      ) : (
        <p class={file.error ? 'error' : 'hint'} role={file.error ? 'alert' : 'status'}>
          {file.error ?? 'Loading the image…'}
        </p>
      )}
      <div class="row">
        <button type="button" disabled={!file.blob} onClick={() => file.blob && saveBlob(file.blob, media.filename)}>
          Download
        </button>
        <button type="button" class="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
