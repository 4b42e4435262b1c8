import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { bodyMentions, isJsonBody, parsePayload, parsedPayload, pick, pickArray, pickString } from '../body.js';
import type { Provider, WebhookRequest } from '../provider.js';
import type { ParsedDelivery, RefUpdate, RepoIdentity } from '../push-event.js';
import { verifyToken } from '../token.js';

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
const PUBLISHERS = new Set<unknown>(['tfs', 'azure-devops']);

/**
 * Azure DevOps "Web Hooks" service hook, event "Code pushed" (`git.push`). No signature:
 * set Basic authentication on the subscription (any user name, the repo's secret as
 * password), or a `X-Autopull-Token` header, or `?token=`. `resource.refUpdates[]` may hold
 * several refs. The subscription's "Test" sends sample data with a zero subscription id; a
 * delivery without a subscription id (as in the documentation's samples) is a real push.
 *
 * Older shapes Microsoft documents parse alike: resourceVersion 1.0 or 1.0-preview(.1),
 * visualstudio.com and on-premises TFS URLs, no resourceContainers. The newest samples
 * say `publisherId: "azure-devops"` where deliveries said `tfs`: both are taken.
 */
export const azureDevops: Provider = {
  id: 'azure-devops',
  title: 'Azure DevOps',
  detectedBy: 'body',

  // No header says Azure DevOps: a JSON body that mentions publisherId may be one.
  detect: (req) => isJsonBody(req) && bodyMentions(req, 'publisherId'),

  confirm(req) {
    const body = parsedBody(req);
    return body === null || (PUBLISHERS.has(body.publisherId) && typeof body.eventType === 'string');
  },

  // The event id; the zero GUID (a placeholder in samples) identifies nothing.
  deliveryId: (req) => {
    const id = parsedPayload(req)?.id;
    return typeof id === 'string' && id !== '' && id !== ZERO_GUID ? id.slice(0, 200) : null;
  },

  eventName: (req) => {
    const t = parsedPayload(req)?.eventType;
    return typeof t === 'string' ? t.slice(0, 100) : '';
  },

  authenticate: (req, secret) => verifyToken(req, secret),

  parse(req): ParsedDelivery {
    const body = parsePayload(req, { form: false });
    const event = pickString(body, 'eventType') ?? '';
    const repository = azureRepoIdentity(body);
    if (pickString(body, 'subscriptionId') === ZERO_GUID) {
      return { kind: 'ping', provider: 'azure-devops', event, repository, note: 'Azure DevOps test notification (zero subscription id); pushes will be deployed' };
    }
    if (event !== 'git.push') return { kind: 'ignored', provider: 'azure-devops', event, repository, reason: `event "${event}" is not git.push` };
    if (repository === null) {
      throw new AppError('no_push_data', 'git.push payload has no "resource.repository" (set "Resource details to send" to All on the subscription)');
    }
    const updates = pickArray(body, 'resource', 'refUpdates').map(refUpdate).filter((u): u is RefUpdate => u !== null);
    if (updates.length === 0) throw new AppError('no_push_data', 'git.push payload has no usable "resource.refUpdates"');
    const pusher = pickString(body, 'resource', 'pushedBy', 'uniqueName') ?? pickString(body, 'resource', 'pushedBy', 'displayName');
    return { kind: 'push', provider: 'azure-devops', event, repository, pusher, updates };
  },
};

function refUpdate(u: unknown): RefUpdate | null {
  const ref = pickString(u, 'name');
  if (ref === null) return null;
  const after = pickString(u, 'newObjectId');
  return { ref, before: pickString(u, 'oldObjectId'), after, headCommit: null, deleted: isZeroSha(after) };
}

function azureRepoIdentity(body: unknown): RepoIdentity | null {
  const repo = pick(body, 'resource', 'repository');
  if (repo === null || typeof repo !== 'object') return null;
  const project = pickString(repo, 'project', 'name');
  const name = pickString(repo, 'name');
  const urls = ['remoteUrl', 'sshUrl', 'webUrl'].map((k) => pickString(repo, k)).filter((x): x is string => x !== null);
  return { fullName: project !== null && name !== null ? `${project}/${name}` : null, urls };
}

/** The parsed body, or null when it does not parse (parse then says why). */
function parsedBody(req: WebhookRequest): Record<string, unknown> | null {
  try {
    return parsePayload(req, { form: false });
  } catch {
    return null;
  }
}
