import { giteaLike } from './gitea-like.js';

/** Gogs: X-Gogs-Event / -Delivery / -Signature; branch and tag deletions come as `delete` events only. */
export const gogs = giteaLike({
  id: 'gogs',
  title: 'Gogs',
  prefix: 'x-gogs',
  signatures: ['x-gogs-signature'],
  tagDeletionOnlyByDeleteEvent: true,
});
