import type { YAMLError } from 'yaml';

/** Hints for the YAML mistakes people make most, by the parser's error code. */
const HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BLOCK_AS_IMPLICIT_KEY: 'a value holding ": " needs quotes, like url: "https://host:8080/x"',
  DUPLICATE_KEY: 'a key may appear once per mapping: remove or merge the second one',
  MISSING_CHAR: 'a quote or bracket is not closed',
  BAD_INDENT: 'check the indentation of this line against the one above',
};

/**
 * A YAML syntax error as one problem: where (line, column), what, a hint, then the offending
 * line (and the one before, for context) with a caret under the column.
 */
export function yamlProblem(e: YAMLError, text: string): string {
  const what = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
  const pos = e.linePos?.[0];
  const hint = HINTS[e.code] ? ` (${HINTS[e.code]})` : '';
  if (!pos) return `YAML: ${what}${hint}`;
  const lines = text.split(/\r?\n/);
  const width = String(pos.line).length;
  const show = (n: number) => `    ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`;
  const out = [`YAML line ${pos.line}, column ${pos.col}: ${what}${hint}`];
  if (pos.line > 1 && ((lines[pos.line - 1] ?? '').trim() === '' || pos.col === 1)) out.push(show(pos.line - 1));
  out.push(show(pos.line), `    ${' '.repeat(width)} | ${' '.repeat(Math.max(0, pos.col - 1))}^`);
  return out.join('\n');
}
