import type { Me } from './api.js';
import { rememberCaller, useI18n } from './context.js';

/** The *Caller* chooser of both pages: the key's entities; the choice is remembered in this browser. */
export function CallerSelect({ id, me, value, onChange }: { id: string; me: Me; value: string; onChange: (entityId: string) => void }) {
  const { t } = useI18n();
  return (
    <div className="field">
      <label htmlFor={id}>{t.check.caller}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => {
          // The caller already shown (a change event can repeat it): nothing to load again – the
          // pages clear their figures on a change and would wait for an answer never asked.
          if (e.target.value === value) return;
          rememberCaller(e.target.value);
          onChange(e.target.value);
        }}
      >
        {me.entities.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name}
          </option>
        ))}
      </select>
    </div>
  );
}
