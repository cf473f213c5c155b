/** A table's column headings; `num` columns are right-aligned like their figures. */
export function TableHead({ columns }: { columns: Array<string | { label: string; num: true }> }) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          typeof c === 'string' ? (
            <th scope="col" key={c}>
              {c}
            </th>
          ) : (
            <th scope="col" key={c.label} className="num">
              {c.label}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** A numeric column's heading. */
export const num = (label: string): { label: string; num: true } => ({ label, num: true });
