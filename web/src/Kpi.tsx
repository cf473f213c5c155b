import { useI18n } from './context.js';

/** A figure with its label and a note below, its top edge coloured by tone (dashboard and call-list results). */
export function Kpi({ label, value, note, tone }: { label: string; value: number; note: string; tone?: 'good' | 'bad' | 'warn' }) {
  const { number } = useI18n();
  return (
    <div className={`kpi ${tone ?? ''}`}>
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{number(value)}</span>
      <span className="kpi-note">{note}</span>
    </div>
  );
}
