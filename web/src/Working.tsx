import type { I18n } from './context.js';

/** What Working shows: its line, the share done (null: not known), and the bar's label. */
export interface WorkingState {
  text: string;
  done: number | null;
  label: string;
}

/** How much of a file has gone up: bytes sent of its size. */
export interface Sent {
  sent: number;
  total: number;
}

/** A file going up, as Working shows it; null once it is all sent (what the server does with it is said instead). */
export function sendingState(name: string, sent: Sent | null, { t, fill, bytes }: I18n): WorkingState | null {
  if (!sent || sent.sent >= sent.total) return null;
  return { text: fill(t.upload.sending, { name, sent: bytes(sent.sent), total: bytes(sent.total) }), done: sent.sent / sent.total, label: t.upload.sentLabel };
}

/**
 * What a long request shows while it runs – a file going up, a list being checked: a spinner and a
 * line of text, and a bar when the share done is known. The line is for the eye (a live region
 * elsewhere tells a screen reader what is under way, once); the bar has its own label.
 */
export function Working({ text, done, label }: WorkingState) {
  return (
    <div className="working">
      <p className="call-list-running" aria-hidden="true">
        <span className="spinner" />
        <span>{text}</span>
      </p>
      {done !== null && <progress className="working-bar" max={1} value={Math.min(1, Math.max(0, done))} aria-label={label} />}
    </div>
  );
}
