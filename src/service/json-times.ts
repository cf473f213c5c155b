/** The engine's moments (epoch ms in fields named …At, nested objects included) as RFC 3339, as the API and the proof give every time. */
export function timesAsIso(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k.endsWith('At') && typeof v === 'number' && Number.isFinite(v)) out[k] = new Date(v).toISOString();
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = timesAsIso(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}
