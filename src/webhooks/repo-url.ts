/**
 * One key per repository location, whatever the spelling: https, ssh `git@host:owner/name.git`,
 * `ssh://git@host:2222/owner/name`, `git://`, with or without `.git` or a trailing slash, and
 * local paths / file:// URLs. Host and path are lower-cased (hosts treat them so), and
 * percent escapes decoded (Azure DevOps sends `_git/My Repo` where git has `_git/My%20Repo`).
 * Returns null when the string is not a repository location.
 */
export function repoKey(url: string): string | null {
  const u = url.trim();
  if (u === '') return null;
  let host: string;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(u);
  if (scheme) {
    const proto = (scheme[1] as string).toLowerCase();
    const rest = scheme[2] as string;
    if (proto === 'file') {
      host = 'file';
      path = rest.replace(/^localhost(?=\/)/, '');
    } else {
      const slash = rest.indexOf('/');
      const authority = slash === -1 ? rest : rest.slice(0, slash);
      path = slash === -1 ? '' : rest.slice(slash);
      host = authority.replace(/^.*@/, '').replace(/:\d*$/, '');
    }
  } else if (u.startsWith('/')) {
    host = 'file';
    path = u;
  } else {
    const scp = /^(?:[^@/]+@)?([^:/]+):(.+)$/.exec(u);
    if (!scp) return null;
    host = scp[1] as string;
    path = scp[2] as string;
    // scp-like syntax may carry a port-looking first segment only in ssh:// form; keep it as path.
  }
  path = decodePath(path.replace(/[?#].*$/, '')).replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '');
  if (!path.startsWith('/')) path = `/${path}`;
  path = path.replace(/\/{2,}/g, '/');
  if (path === '/' || host === '') return null;
  return `${host.toLowerCase()}${path.toLowerCase()}`;
}

/** Whether a configured repo url names the repository `fullName` (owner/name, path-aligned). */
export function urlEndsWithFullName(url: string, fullName: string): boolean {
  const key = repoKey(url);
  const name = fullName.trim().toLowerCase().replace(/\.git$/, '').replace(/^\/+|\/+$/g, '');
  if (key === null || name === '') return false;
  return key.endsWith(`/${name}`);
}

function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
