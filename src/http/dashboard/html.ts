/**
 * HTML from templates with every value escaped: `html\`<td>${name}</td>\`` escapes `name`
 * whatever it holds (a repo name, a header from a delivery, a log line); only another
 * `html` result (SafeHtml) goes in as it is. Attributes are always written in double quotes,
 * so escaping `"` keeps a value inside its attribute.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

function render(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || typeof v === 'boolean') return '';
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] as string);
  return new SafeHtml(out);
}

/** Markup that is known safe (a constant of this program), never text from outside. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
