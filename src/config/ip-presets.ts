import { readFileSync } from 'node:fs';
import { didYouMean } from './describe-issue.js';

/**
 * Named allow_ips entries (`github`, `gitlab`, `bitbucket`): the webhook source ranges each
 * host publishes, kept in ip-presets.json with their source and the date they were taken
 * (copied beside the built module by scripts/copy-assets.mjs). Read once, when a config
 * first uses a preset.
 */
export interface IpPreset {
  title: string;
  source: string;
  as_of: string;
  note: string;
  cidrs: string[];
}

export const PRESET_NAMES = ['github', 'gitlab', 'bitbucket'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

let presets: Record<PresetName, IpPreset> | null = null;

export function ipPresets(): Record<PresetName, IpPreset> {
  presets ??= JSON.parse(readFileSync(new URL('./ip-presets.json', import.meta.url), 'utf8')) as Record<PresetName, IpPreset>;
  return presets;
}

export function isPreset(entry: string): entry is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(entry);
}

/** Why an allow_ips entry that is neither an address nor a CIDR block is refused, with the preset it may have meant. */
export function unknownEntry(entry: string): string {
  const hint = didYouMean(entry, PRESET_NAMES);
  return `"${entry}" is not an IP address, a CIDR block or a preset (${PRESET_NAMES.join(', ')})${hint ? ` (did you mean "${hint}"?)` : ''}`;
}

/** allow_ips with each preset replaced by its ranges (duplicates dropped). */
export function expandAllowIps(entries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    if (isPreset(e)) for (const c of ipPresets()[e].cidrs) out.add(c);
    else out.add(e);
  }
  return [...out];
}
