import type { z } from 'zod';
import { configSchema } from './schema.js';
import { descriptionOf, keysAt, mappingLevels, numberRange, schemaAt } from './schema-walk.js';

/**
 * zod's issues in plain words: each names the key (its dotted path), the value found and
 * what to write instead, using what the schema knows (the keys of that level, a number's
 * range, the key's description).
 */
type Issue = z.core.$ZodIssue;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** The closest of `known` to `key` when it is close enough to be a typo, else null. */
export function didYouMean(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && best !== key && bestD <= (key.length <= 3 ? 1 : 2) ? best : null;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list (one "- " line per entry, or [a, b])',
  object: 'a mapping (keys on the lines below, indented)',
  record: 'a mapping (keys on the lines below, indented)',
};

const about = (path: readonly PropertyKey[]): string => {
  const s = schemaAt(configSchema, path);
  const d = s ? descriptionOf(s) : undefined;
  return d ? ` (${d})` : '';
};

/** Where a key that is unknown at `path` is valid instead, with the names of this path filled in. */
function belongsElsewhere(key: string, path: readonly PropertyKey[]): string | null {
  const shared = (pattern: string[]) => {
    const differs = pattern.findIndex((seg, i) => !(seg === path[i] || (seg === '*' && typeof path[i] === 'string') || (seg === '[]' && typeof path[i] === 'number')));
    return differs === -1 ? pattern.length : differs;
  };
  const levels = mappingLevels(configSchema)
    .filter((l) => l.keys.includes(key))
    .sort((a, b) => shared(b.pattern) - shared(a.pattern) || Number(a.pattern.includes('[]')) - Number(b.pattern.includes('[]')) || a.pattern.length - b.pattern.length);
  if (levels.length === 0) return null;
  const where = levels.slice(0, 3).map(({ pattern }) => {
    const filled = pattern.map((seg, i) => (seg === '*' ? (typeof path[i] === 'string' ? path[i] : 'NAME') : seg === '[]' ? (typeof path[i] === 'number' ? path[i] : '[]') : seg));
    if (filled.length === 0) return 'at the top level';
    if (filled.at(-1) === '[]') return `in each entry of ${formatPath(filled.slice(0, -1).filter((s) => s !== '[]'))}:`;
    return `under ${formatPath(filled.filter((s) => s !== '[]'))}`;
  });
  return `${key} belongs ${where.join(' or ')}, not ${path.length === 0 ? 'at the top level' : `under ${formatPath(path)}`}`;
}

function unknownKey(key: string, path: readonly PropertyKey[]): string {
  const here = keysAt(configSchema, path);
  const hint = didYouMean(key, here);
  if (hint) return `unknown key (did you mean "${hint}"?)`;
  const elsewhere = belongsElsewhere(key, path);
  if (elsewhere) return `unknown key here: ${elsewhere}`;
  return here.length > 0 ? `unknown key (the keys here are: ${here.join(', ')})` : 'unknown key';
}

function rangeMessage(issue: Issue & { code: 'too_small' | 'too_big' }, at: unknown): string | null {
  if (issue.origin !== 'number') return null;
  const s = schemaAt(configSchema, issue.path);
  const r = s ? numberRange(s) : null;
  if (!r) return null;
  const what = r.int ? 'a whole number' : 'a number';
  const range = r.min !== null && r.max !== null ? `from ${r.min} to ${r.max}` : r.min !== null ? `of at least ${r.min}` : r.max !== null ? `of at most ${r.max}` : '';
  return `${describeValue(at)} is too ${issue.code === 'too_small' ? 'small' : 'big'}: give ${what} ${range}`.trimEnd() + about(issue.path);
}

/** A union's issues: the branches whose kind the value is not are left out; "A or B" when none is left. */
function unionMessages(issue: Issue & { code: 'invalid_union' }, input: unknown): string[] {
  const at = valueAt(input, issue.path);
  const scalar = at === null || typeof at !== 'object';
  const notThisKind = (i: Issue) => i.path.length === 0 && (i.code === 'invalid_type' || (i.code === 'invalid_value' && !scalar));
  const fitting = issue.errors.filter((branch) => !branch.every(notThisKind));
  if (fitting.length === 0 || issue.errors.length === 0) {
    const expected = [...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? (EXPECTED[i.expected] ?? i.expected) : null)).filter((x): x is string => x !== null))];
    if (at === undefined) return [`${formatPath(issue.path)}: is required${about(issue.path)}`];
    if (expected.length === 0) return [`${formatPath(issue.path)}: ${issue.message}`];
    const list = expected.includes(EXPECTED.array as string) && expected.length === 2;
    const what = list ? 'one value or a list of them (like [a, b])' : expected.join(' or ');
    return [`${formatPath(issue.path)}: must be ${what}, not ${describeValue(at)}${list ? '' : about(issue.path)}`];
  }
  return (fitting[0] as Issue[]).flatMap((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] } as Issue, input));
}

export function describeIssue(issue: Issue, input: unknown): string[] {
  const at = valueAt(input, issue.path);
  const where = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: ${unknownKey(k, issue.path)}`);
    case 'invalid_union':
      return unionMessages(issue, input);
    case 'invalid_type':
      if (at === undefined) return [`${where}: is required${about(issue.path)}`];
      return [`${where}: must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(at)}`];
    case 'invalid_value': {
      if (!('values' in issue)) break;
      const values = issue.values.map((v) => String(v));
      const hint = typeof at === 'string' ? didYouMean(at, values) : null;
      return [`${where}: must be one of ${values.join(', ')}, not ${describeValue(at)}${hint ? ` (did you mean "${hint}"?)` : ''}`];
    }
    case 'too_small':
    case 'too_big': {
      const m = rangeMessage(issue, at);
      if (m) return [`${where}: ${m}`];
      break;
    }
    case 'invalid_key':
      return [`${where}: ${JSON.stringify(issue.path.at(-1))} is not a valid name: ${issue.issues.map((i) => i.message).join('; ')}`];
    default:
      break;
  }
  return [`${where}: ${issue.message}`];
}
