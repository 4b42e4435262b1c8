/**
 * A supervised app's `start` line is run with `sh -c`. When the line is one simple command
 * (a program and its arguments, optionally after VAR=value assignments and with redirections),
 * it is run as `exec LINE`: sh replaces itself with the program, so the app is autopull's direct
 * child, its pid is the app's own and its exit is seen at once. Anything else (`;`, `&&`, `||`,
 * `|`, `&`, parentheses, `$(...)`, backquotes, several lines, a reserved word or a shell
 * builtin first) runs as written, under sh. When in doubt the line is left as it is: that is
 * always correct, only one process longer.
 */

/** Words that make the line compound, or that `exec` cannot run (shell builtins without a program). */
const NOT_EXECUTABLE = new Set([
  ...['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!', '[[', ']]', 'function', 'select', 'time', 'coproc'],
  ...['.', ':', 'break', 'continue', 'eval', 'exec', 'exit', 'export', 'readonly', 'return', 'set', 'shift', 'times', 'trap', 'unset', 'cd', 'alias', 'unalias'],
  ...['bg', 'fg', 'jobs', 'read', 'umask', 'ulimit', 'wait', 'command', 'getopts', 'hash', 'type', 'local', 'source'],
]);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

interface Word {
  start: number;
  text: string;
}

/** The index just past the quoted part starting at `i` (a ' or "), or -1 when it is not closed. */
function endOfQuote(s: string, i: number): number {
  const q = s[i];
  for (let j = i + 1; j < s.length; j++) {
    if (q === '"' && s[j] === '\\') j++;
    else if (s[j] === q) return j + 1;
  }
  return -1;
}

/**
 * The words of `s` when it is one simple command, else null. Quotes are honoured; `>&`, `<&`
 * and `>|` are redirections, any other unquoted `&` or `|` is an operator.
 */
export function simpleCommandWords(s: string): Word[] | null {
  const words: Word[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') return s.indexOf('\n', i) === -1 ? words : null;
    const start = i;
    let prev = '';
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
      const ch = s[i] as string;
      if ('\n;()`'.includes(ch)) return null;
      if (ch === '$' && s[i + 1] === '(') return null;
      if ((ch === '&' && prev !== '>' && prev !== '<') || (ch === '|' && prev !== '>')) return null;
      if (ch === "'" || ch === '"') {
        const end = endOfQuote(s, i);
        if (end === -1) return null;
        i = end;
      } else if (ch === '\\') {
        if (s[i + 1] === '\n' || i + 1 >= s.length) return null;
        i += 2;
      } else {
        i++;
      }
      prev = ch;
    }
    words.push({ start, text: s.slice(start, i) });
  }
  return words;
}

/** `exec LINE` for a simple command (see above), else `line` unchanged. */
export function execLine(line: string): string {
  const trimmed = line.trim();
  const words = simpleCommandWords(trimmed);
  if (words === null) return line;
  const program = words.find((w) => !ASSIGNMENT.test(w.text));
  if (!program || NOT_EXECUTABLE.has(program.text)) return line;
  return `${trimmed.slice(0, program.start)}exec ${trimmed.slice(program.start)}`;
}
