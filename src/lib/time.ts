/** Release ids and timestamps: UTC, sortable as text. */
export function compactUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

export function nowIso(): string {
  return new Date().toISOString();
}
