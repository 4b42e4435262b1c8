import type { ProviderId } from '../config/schema.js';

/** What a delivery says about its repository; used only to find the configured repo. */
export interface RepoIdentity {
  /** 'owner/name', GitLab 'group/sub/name', Bitbucket DC 'KEY/slug', Azure 'project/repo'. */
  fullName: string | null;
  /** Every URL the payload names for the repo (clone, ssh, web); never fetched from. */
  urls: string[];
}

/** One ref change in a push. A delivery may carry several (Bitbucket, Azure DevOps). */
export interface RefUpdate {
  /** Full ref name: refs/heads/main, refs/tags/v1. */
  ref: string;
  before: string | null;
  /** New id as sent; for an annotated tag this may be the tag object. */
  after: string | null;
  /** The peeled commit when the sender says it (GitHub head_commit.id, GitLab checkout_sha). */
  headCommit: string | null;
  deleted: boolean;
}

export interface PushEvent {
  kind: 'push';
  provider: ProviderId;
  event: string;
  repository: RepoIdentity;
  updates: RefUpdate[];
  pusher: string | null;
}

/** A ping or test delivery: answered 200 `ping`, never deployed. */
export interface PingEvent {
  kind: 'ping';
  provider: ProviderId;
  event: string;
  repository: RepoIdentity | null;
  /** What made it a ping when the sender has no ping event ("Gitea test delivery: before equals after"). */
  note?: string;
}

export interface IgnoredEvent {
  kind: 'ignored';
  provider: ProviderId;
  event: string;
  reason: string;
  repository: RepoIdentity | null;
}

export type ParsedDelivery = PushEvent | PingEvent | IgnoredEvent;

/** The commit a ref update asks to deploy, as a hint only: autopull resolves the ref itself. */
export function hintSha(update: RefUpdate): string | null {
  return update.headCommit ?? update.after;
}
