import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/load.js';
import { Store, type Job } from '../../src/store/store.js';
import { Worker } from '../../src/runner/worker.js';
import { Apps } from '../../src/deploy/apps.js';
import { enqueueManual, enqueueRollback } from '../../src/runner/manual.js';
import { silentLogger } from '../../src/lib/log.js';
import { makeProject, type Project, type ProjectOptions } from './project.js';

/** A project with an in-process store and worker: run jobs to completion and look at the disk. */
export interface Rig {
  rollback(to?: string): Promise<Job>;
  p: Project;
  config: Config;
  store: Store;
  apps: Apps;
  deploy(ref?: string, force?: boolean): Promise<Job>;
  current(): string | null;
  releases(): string[];
  log(job: Job): string;
  /** Rewrites the config file with `edit`, loads it, and runs one deploy with it (no supervised apps). */
  deployWith(edit: (yaml: string) => string): Promise<Job>;
}

export function rig(t: { after(fn: () => unknown): void }, o: ProjectOptions = {}): Rig {
  const p = makeProject(t, o);
  const config = loadConfig(p.configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  // Supervised apps (deploy.start) as the server runs them; stopped when the test ends.
  const apps = new Apps(config, silentLogger());
  t.after(() => apps.stopAll());
  const worker = new Worker(config, store, silentLogger(), { apps });
  return {
    p,
    config,
    store,
    apps,
    async deploy(ref, force = false) {
      const { id } = enqueueManual(config, store, 'site', ref, force);
      worker.kick('site');
      await worker.idle();
      return store.getJob(id) as Job;
    },
    async rollback(to) {
      const { id } = enqueueRollback(config, store, 'site', to);
      worker.kick('site');
      await worker.idle();
      return store.getJob(id) as Job;
    },
    current() {
      const link = join(p.deployPath, 'current');
      return existsSync(link) ? readlinkSync(link) : null;
    },
    releases() {
      const dir = join(p.deployPath, 'releases');
      return existsSync(dir) ? readdirSync(dir).sort() : [];
    },
    async deployWith(edit) {
      writeFileSync(p.configFile, edit(readFileSync(p.configFile, 'utf8')));
      const edited = loadConfig(p.configFile);
      const { id } = enqueueManual(edited, store, 'site', undefined, false);
      const w = new Worker(edited, store, silentLogger());
      w.kick('site');
      await w.idle();
      return store.getJob(id) as Job;
    },
    log(job) {
      return store.logsAfter(job.id).map((l) => l.line).join('\n');
    },
  };
}

