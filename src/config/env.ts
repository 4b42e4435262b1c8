/**
 * `${VAR}` substitution in string values of the parsed YAML (never in the YAML text, so a
 * variable's value cannot change the document's structure). `${VAR:-default}` gives a
 * fallback; `$${` is a literal `${`. Every unset variable is reported with its path.
 */
const VAR_RE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

/** A `${VAR}` the config refers to, and where (whether it was set or not). */
export interface EnvUse {
  path: (string | number)[];
  name: string;
}

export interface Substituted {
  value: unknown;
  problems: EnvProblem[];
  uses: EnvUse[];
}

export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[] = [], problems: EnvProblem[] = [], uses: EnvUse[] = []): Substituted {
  if (typeof value === 'string') {
    const out = value.replace(VAR_RE, (whole, escaped: string, name: string, fallback: string | undefined) => {
      if (escaped) return whole.slice(1);
      uses.push({ path, name });
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
    return { value: out, problems, uses };
  }
  if (Array.isArray(value)) {
    return { value: value.map((v, i) => substituteEnv(v, env, [...path, i], problems, uses).value), problems, uses };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, [...path, k], problems, uses).value;
    return { value: out, problems, uses };
  }
  return { value, problems, uses };
}
