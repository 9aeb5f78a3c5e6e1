import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * Renders a modal dialog on the native <dialog> element; Escape closes it.
 * On close the focus goes back to the element that had it when the
 * dialog opened, if that element is still in the document.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; class?: string }) {
  const { title, onClose, children } = props;
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (d && !d.open) d.showModal();
    return () => {
      d?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.class ? `dialog ${props.class}` : 'dialog'}
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2>{title}</h2>
      {children}
    </dialog>
  );
}

/**
 * Renders a dialog form's error, if any, and its Cancel and submit
 * buttons. danger marks a submit that destroys something, and busy
 * disables it while the request runs.
 */
export function DialogActions(props: { error: string; submitLabel: string; onCancel: () => void; danger?: boolean; busy?: boolean }) {
  const { error, submitLabel, onCancel, danger = false, busy = false } = props;
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
