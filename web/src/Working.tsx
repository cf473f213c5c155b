/**
 * What a long request shows while it runs – a file going up, a list being checked: a spinner and a
 * line of text, and a bar when the share done is known. The line is for the eye (a live region
 * elsewhere tells a screen reader what is under way, once); the bar has its own label.
 */
export function Working({ text, done, label }: { text: string; done: number | null; label: string }) {
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
