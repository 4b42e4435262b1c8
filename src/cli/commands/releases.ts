import { configPath, loadConfig } from '../../config/load.js';
import { UsageError } from '../../lib/errors.js';
import { escapeControls as e } from '../../lib/escape-controls.js';
import type { BadCommit } from '../../store/store.js';
import { isShaPrefix, releasesReport, unmarkCommit, type ReleasesReport } from '../../runner/releases-view.js';
import { apiCall, viaServerOrStore } from '../server-or-store.js';
import { releasesLines } from '../tables.js';

/** `autopull releases REPO [--json]`: releases with their state, and the commits marked bad. Only reads. */
export async function releasesCommand(repo: string, opts: { config?: string; json?: boolean }): Promise<void> {
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  const report = await viaServerOrStore(
    config,
    async (client) => {
      const { ok: _ok, ...body } = await apiCall<ReleasesReport & { ok: true }>(client, 'GET', `/api/repos/${encodeURIComponent(repo)}/releases`);
      return body;
    },
    (store) => releasesReport(config, store, repo),
  );
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of releasesLines(report)) console.log(line);
}

/**
 * `autopull unmark REPO SHA`: clears a commit's bad mark without deploying it. SHA may be a
 * prefix of at least 7 hex digits that names one marked commit; exit 1 when it names none or
 * several (the message lists them). Needs no secret: it only changes autopull's own records.
 */
export async function unmarkCommand(repo: string, sha: string, opts: { config?: string }): Promise<void> {
  if (!isShaPrefix(sha)) throw new UsageError(`SHA must be a commit id or a prefix of one (7 to 64 hex digits), not "${sha.slice(0, 80)}"`);
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  const was = await viaServerOrStore(
    config,
    async (client) => (await apiCall<{ was: BadCommit }>(client, 'DELETE', `/api/repos/${encodeURIComponent(repo)}/bad/${encodeURIComponent(sha)}`)).was,
    (store) => unmarkCommit(config, store, repo, sha),
  );
  console.log(`${e(repo)}: ${was.sha} is no longer marked bad (it was: ${e(was.reason)}); the next push or autopull deploy may deploy it`);
}
