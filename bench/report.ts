import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const docs = (name: string) => new URL(`../docs/${name}`, import.meta.url);

/** The `## ` sections of a markdown text, by heading line (the text before the first is left out). */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^(?=## )/m);
  for (const part of parts.slice(text.startsWith('## ') ? 0 : 1)) out.set(part.split('\n', 1)[0] as string, part.trimEnd());
  return out;
}

/**
 * Writes a benchmark's report to docs/NAME and prints it. With `keepSections`, the file's
 * `## ` sections that `lines` does not write (another benchmark's: writeSection) stay.
 */
export function writeReport(name: string, lines: readonly string[], o: { keepSections?: boolean } = {}): void {
  let text = lines.join('\n');
  if (o.keepSections && existsSync(docs(name))) {
    const mine = sections(text);
    const kept = [...sections(readFileSync(docs(name), 'utf8'))].filter(([h]) => !mine.has(h)).map(([, s]) => s);
    if (kept.length > 0) text = `${text.trimEnd()}\n\n${kept.join('\n\n')}\n`;
  }
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  writeFileSync(docs(name), text);
  console.log(lines.join('\n'));
}

/** Replaces the section of docs/NAME that starts with `lines[0]` (a `## ` heading), or appends it; the rest of the file stays. */
export function writeSection(name: string, lines: readonly string[]): void {
  const heading = lines[0] as string;
  if (!heading.startsWith('## ')) throw new Error(`a section starts with a "## " heading, not "${heading}"`);
  const section = lines.join('\n').trimEnd();
  const old = existsSync(docs(name)) ? readFileSync(docs(name), 'utf8') : '';
  const at = old.split('\n').findIndex((l) => l === heading);
  let text: string;
  if (at < 0) text = `${old.trimEnd()}${old ? '\n\n' : ''}${section}\n`;
  else {
    const before = old.split('\n').slice(0, at).join('\n');
    const rest = old.split('\n').slice(at + 1);
    const next = rest.findIndex((l) => l.startsWith('## '));
    const after = next < 0 ? '' : rest.slice(next).join('\n');
    text = `${before ? `${before}\n` : ''}${section}\n${after ? `\n${after}` : ''}`;
  }
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  writeFileSync(docs(name), text);
  console.log(section);
}

/** Runs a benchmark's main, then its cleanups in reverse order, whatever happened. */
export async function runBench(main: () => Promise<void>, cleanups: (() => unknown)[]): Promise<void> {
  try {
    await main();
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}
