import { z } from '../lib/zod.js';

/**
 * Reading the config schema itself, for messages that name what a key allows: the keys valid
 * at a level, where a misplaced key belongs, a number's range, a key's description. Only
 * what zod's definitions expose (`def`, `shape`, `minValue`, the meta registry).
 */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}

const def = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The schemas a value passes through at one place, outermost first (wrappers, pipes). */
function layers(s: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [s];
  for (;;) {
    const d = def(out[out.length - 1] as z.ZodType);
    const next = WRAPPERS.has(d.type) ? d.innerType : d.type === 'pipe' ? d.in : undefined;
    if (!next) return out;
    out.push(next);
  }
}

function unwrap(s: z.ZodType): z.ZodType {
  return layers(s).at(-1) as z.ZodType;
}

/** The first description found on the way in (meta sits on the outer layers). */
export function descriptionOf(s: z.ZodType): string | undefined {
  for (const l of layers(s)) {
    const d = z.globalRegistry.get(l)?.description;
    if (d) return d;
  }
  return undefined;
}

function child(s: z.ZodType, key: PropertyKey): z.ZodType | null {
  const d = def(unwrap(s));
  if (d.type === 'object') return d.shape?.[String(key)] ?? null;
  if (d.type === 'record') return d.valueType ?? null;
  if (d.type === 'array') return typeof key === 'number' ? (d.element ?? null) : null;
  if (d.type === 'union') {
    for (const o of d.options ?? []) {
      const c = child(o, key);
      if (c) return c;
    }
  }
  return null;
}

/** The schema at a path of the parsed config (record keys and list indexes included), or null. */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | null {
  let s: z.ZodType | null = root;
  for (const p of path) {
    if (!s) return null;
    s = child(s, p);
  }
  return s;
}

/** The schema's innermost type name (number, string, object, union, ...). */
export function kindOf(s: z.ZodType): string {
  return def(unwrap(s)).type;
}

/** The keys of the mapping at `path`, or [] when it is not a mapping. */
export function keysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  if (!s) return [];
  const d = def(unwrap(s));
  // A mapping that may also be written as a word (limits.rate: off) is a union holding it.
  const mapping = d.type === 'union' ? (d.options ?? []).map((o) => def(unwrap(o))).find((o) => o.type === 'object') : d;
  return mapping?.type === 'object' ? Object.keys(mapping.shape ?? {}) : [];
}

/** A number's bounds and whether it must be whole. */
export function numberRange(s: z.ZodType): { min: number | null; max: number | null; int: boolean } | null {
  const n = unwrap(s) as unknown as { minValue?: number | null; maxValue?: number | null; isInt?: boolean; def: Def };
  if (n.def.type !== 'number') return null;
  const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : null);
  return { min: finite(n.minValue), max: finite(n.maxValue), int: n.isInt === true };
}

/** Every mapping level of the schema: its path pattern (`*` a name, `[]` a list item) and its keys. */
export function mappingLevels(root: z.ZodType): { pattern: string[]; keys: string[] }[] {
  const out: { pattern: string[]; keys: string[] }[] = [];
  const visit = (s: z.ZodType, pattern: string[]) => {
    const d = def(unwrap(s));
    if (d.type === 'object') {
      out.push({ pattern, keys: Object.keys(d.shape ?? {}) });
      for (const [k, v] of Object.entries(d.shape ?? {})) visit(v, [...pattern, k]);
    } else if (d.type === 'record' && d.valueType) visit(d.valueType, [...pattern, '*']);
    else if (d.type === 'array' && d.element) visit(d.element, [...pattern, '[]']);
    else if (d.type === 'union') for (const o of d.options ?? []) visit(o, pattern);
  };
  visit(root, []);
  const seen = new Set<string>();
  return out.filter((l) => !seen.has(l.pattern.join('.')) && seen.add(l.pattern.join('.')));
}
