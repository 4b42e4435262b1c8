import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The dashboard's script and stylesheet: plain files beside this module (static/, copied next
 * to the built module by `npm run build`), read once, served by the app itself (no CDN: the
 * dashboard works offline) under a URL that carries their hash, so a browser may keep them.
 */
export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  /** /assets/HASH/NAME */
  url: string;
}

const FILES: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

let loaded: Map<string, Asset> | null = null;

export function assets(): Map<string, Asset> {
  if (loaded) return loaded;
  const out = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./static/${name}`, import.meta.url));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    out.set(name, { name, type, body, url: `/assets/${hash}/${name}` });
  }
  loaded = out;
  return out;
}

export function assetUrl(name: keyof typeof FILES | string): string {
  return assets().get(name)?.url ?? `/assets/0/${name}`;
}
