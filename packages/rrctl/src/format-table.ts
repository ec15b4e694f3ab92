/** One column of a {@link formatTable} table. */
export interface TableColumn {
  readonly header: string;
  /** Numbers read best right-aligned. Default `left`. */
  readonly align?: "left" | "right";
}

/**
 * Lays out rows under upper-case headers, columns separated by two spaces, each line prefixed
 * with `indent`, trailing spaces trimmed (so a last, free-text column is never padded).
 * Widths count UTF-16 code units: fine for the ASCII names Kubernetes allows.
 */
export function formatTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  indent = "",
): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((column, index) => {
        const cell = cells[index] ?? "";
        const width = widths[index] ?? 0;
        return column.align === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}
