import { giteaLike } from './gitea-like.js';

/** Forgejo: a Gitea fork that adds X-Forgejo-* headers and still sends Gitea's. */
export const forgejo = giteaLike({
  id: 'forgejo',
  title: 'Forgejo',
  prefix: 'x-forgejo',
  signatures: ['x-forgejo-signature', 'x-gitea-signature'],
  tagDeletionOnlyByDeleteEvent: false,
});
