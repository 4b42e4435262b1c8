/**
 * Text from builds, apps and remotes shown on the operator's terminal: every control
 * character except tab is shown escaped, so that a build printing `\x1b]0;title\x07` or
 * `\x1b[2J` cannot retitle or clear the terminal, and nothing is silently dropped. C0
 * controls and DEL as `\x1b` (`\n`, `\r` by name), C1 controls (CSI is U+009B) and the
 * characters that reorder or break lines (bidi overrides and isolates, U+2028/2029) as
 * `\u009b`. A backslash already in the text is left as it is.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The same, line by line: for messages whose line breaks are autopull's own (a config's problem list). */
export function escapeLines(text: string): string {
  return text.split('\n').map(escapeControls).join('\n');
}
