/** Typed strings for values that must not be confused with each other. */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type Sha = Brand<string, 'Sha'>;
export type RepoName = Brand<string, 'RepoName'>;
export type ReleaseId = Brand<string, 'ReleaseId'>;

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const REPO_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
const RELEASE_RE = /^\d{8}T\d{6}-[0-9a-f]{7,12}(?:-\d+)?$/;

export function parseSha(s: string): Sha | null {
  const v = s.trim().toLowerCase();
  return SHA_RE.test(v) ? (v as Sha) : null;
}

export function isZeroSha(s: string | null | undefined): boolean {
  return typeof s === 'string' && /^0+$/.test(s);
}

export function parseRepoName(s: string): RepoName | null {
  return REPO_NAME_RE.test(s) && s.length <= 100 ? (s as RepoName) : null;
}

export function parseReleaseId(s: string): ReleaseId | null {
  return RELEASE_RE.test(s) ? (s as ReleaseId) : null;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
