import type { Provider } from '../provider.js';
import { azureDevops } from './azure-devops.js';
import { backlog } from './backlog.js';
import { bitbucketCloud } from './bitbucket-cloud.js';
import { bitbucketLegacy } from './bitbucket-legacy.js';
import { bitbucketServer } from './bitbucket-server.js';
import { forgejo } from './forgejo.js';
import { generic } from './generic.js';
import { gitea } from './gitea.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';
import { gogs } from './gogs.js';

/**
 * Every sender, in detection order: senders that imitate others come before the ones they
 * imitate (Forgejo sends Gitea's headers, Gitea sends Gogs' and GitHub's, Gogs GitHub's),
 * senders known by headers before senders known by body shape, and the generic sender,
 * which any token or Standard Webhooks signature matches, last.
 */
export const PROVIDERS: readonly Provider[] = [forgejo, gitea, gogs, gitlab, bitbucketCloud, bitbucketServer, github, azureDevops, bitbucketLegacy, backlog, generic];

