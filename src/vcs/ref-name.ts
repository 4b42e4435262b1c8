/**
 * git's ref-name rules (git-check-ref-format), applied to every ref that comes from a
 * payload before it is used anywhere. Returns the reason a name is refused, or null.
 */
export function refNameProblem(ref: string): string | null {
  if (ref.length === 0) return 'is empty';
  if (ref.length > 1024) return 'is longer than 1024 characters';
  if (!ref.startsWith('refs/')) return 'does not start with refs/';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (ref.includes('..')) return 'contains ..';
  if (ref.includes('@{')) return 'contains @{';
  if (ref === '@') return 'is @';
  if (ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.')) return 'ends with .';
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) return 'has a component that starts with .';
    if (part.endsWith('.lock')) return 'has a component that ends with .lock';
  }
  return null;
}

export type RefKind = 'branch' | 'tag' | 'other';

export function refKind(ref: string): { kind: RefKind; name: string } {
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return { kind: 'other', name: ref };
}
