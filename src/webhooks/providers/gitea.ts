import { giteaLike } from './gitea-like.js';

/** Gitea: X-Gitea-Event / -Delivery / -Signature (it also sends Gogs and GitHub headers). */
export const gitea = giteaLike({
  id: 'gitea',
  title: 'Gitea',
  prefix: 'x-gitea',
  signatures: ['x-gitea-signature', 'x-gogs-signature'],
  tagDeletionOnlyByDeleteEvent: false,
});
