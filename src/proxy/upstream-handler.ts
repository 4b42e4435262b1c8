import type { Dispatcher } from 'undici';

/**
 * What the request and the upgrade handlers share: the upstream request's controller (given by
 * undici when the request starts) and one way to give up on it, before or after it started.
 */
export abstract class UpstreamHandler {
  protected controller: Dispatcher.DispatchController | null = null;
  private abortWith: Error | null = null;
  /** The upstream request is over: answered, failed, or given up on. */
  protected settled = false;

  protected abortUpstream(reason: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (this.controller) this.controller.abort(reason);
    else this.abortWith = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortWith) controller.abort(this.abortWith);
  }
}
