import type { ProviderId } from '../../config/schema.js';
import type { Provider } from '../provider.js';
import { github } from './github.js';

/**
 * Every sender, in detection order: senders that imitate others (Gitea, Gogs and Forgejo
 * send GitHub headers too) must come before the ones they imitate.
 */
export const PROVIDERS: readonly Provider[] = [github];

export function providerById(id: ProviderId): Provider | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
