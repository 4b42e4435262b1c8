/**
 * Credentials never reach a log, a job output, an error or the database: URLs lose their
 * userinfo password, and known secret values (tokens read from the environment) are masked
 * wherever they appear.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, info: string) => {
    const user = info.split(':')[0] ?? '';
    return info.includes(':') ? `${scheme}${user}:***@` : `${scheme}${info}@`;
  });
}

/** Masks every URL password in free text (git's messages), then each given secret. */
export function redactText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^@\s/?#:]*):([^@\s/?#]*)@/gi, '$1$2:***@');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
