/**
 * The name a scrub's file is saved under: the list's own name – its last path segment, without its
 * extension and without characters file systems refuse – with what the file now is
 * (calls.csv → calls-checked.csv), so it sits beside the list it came from; the scrub's id when the
 * list came without a name. The server says it in English, the dashboard in its own language.
 */
export function savedName(inputName: string | null, id: string, suffix: string): string {
  const stem = [...((inputName ?? '').split(/[\\/]/).pop() ?? '').replace(/\.(csv|txt|tsv)$/i, '')]
    .map((ch) => (ch < ' ' || '<>:"|?*'.includes(ch) ? '_' : ch))
    .join('')
    .trim();
  return `${stem || `scrub-${id}`}-${suffix}.csv`;
}
