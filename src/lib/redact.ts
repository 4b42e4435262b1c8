/**
 * Credentials in URLs (`https://user:TOKEN@host/...`) never reach logs, job output, errors or
 * the database: shown URLs have their userinfo replaced, and process output is scrubbed of
 * the secret parts.
 */
const SCHEME_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/]+)@/i;

export function redactUrl(url: string): string {
  return url.replace(SCHEME_USERINFO, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return colon === -1 ? `${scheme}***@` : `${scheme}${info.slice(0, colon)}:***@`;
  });
}

/** The parts of a URL to scrub from any text: the password, or a user name that is a token. */
export function urlSecrets(url: string): string[] {
  const m = SCHEME_USERINFO.exec(url);
  if (!m) return [];
  const info = m[2] as string;
  const colon = info.indexOf(':');
  const parts = colon === -1 ? [info] : [info.slice(colon + 1)];
  return parts.flatMap((p) => [p, safeDecode(p)]).filter((p, i, all) => p.length >= 3 && all.indexOf(p) === i);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Masks every URL password in free text (git's messages), then each given secret. */
export function redactText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^@\s/?#:]*):([^@\s/?#]*)@/gi, '$1$2:***@');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
