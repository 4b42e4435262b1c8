import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bareRemote, commit, push, workRepo } from './git.js';
import { tempDir } from './tmp.js';

export interface ProjectOptions {
  build?: string[];
  restart?: string;
  keep?: number;
  shared?: string[];
  branches?: string[];
  /** Extra YAML lines under repos.site (indented by 4). */
  repoYaml?: string;
  /** Extra YAML lines under repos.site.deploy (indented by 6). */
  deployYaml?: string;
}

export interface Project {
  dir: string;
  remote: string;
  work: string;
  configFile: string;
  deployPath: string;
  dataDir: string;
  secret: string;
  token: string;
  /** Commits files in the work repo and pushes main; returns the commit id. */
  pushCommit(files: Record<string, string>, message?: string): string;
}

/** A bare remote, a working clone and a config whose repo `site` deploys into dir/srv. */
export function makeProject(t: { after(fn: () => unknown): void }, o: ProjectOptions = {}): Project {
  const dir = tempDir(t);
  const remote = bareRemote(join(dir, 'remote.git'));
  const work = workRepo(join(dir, 'work'), remote);
  const secret = randomBytes(16).toString('hex');
  const token = randomBytes(16).toString('hex');
  const configFile = join(dir, 'autopull.yml');
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  writeFileSync(
    configFile,
    `listen: 127.0.0.1:0
data_dir: ./data
shutdown_grace: 10s
auth_token: ${token}
repos:
  site:
    url: ./remote.git
    secret: ${secret}
    branches: ${list(o.branches ?? ['main'])}
${o.repoYaml ?? ''}
    deploy:
      path: ./srv
      build: ${list(o.build ?? [])}
      shared: ${list(o.shared ?? [])}
      keep: ${o.keep ?? 5}
${o.restart ? `      restart: ${JSON.stringify(o.restart)}\n` : ''}${o.deployYaml ?? ''}`,
  );
  return {
    dir,
    remote,
    work,
    configFile,
    deployPath: join(dir, 'srv'),
    dataDir: join(dir, 'data'),
    secret,
    token,
    pushCommit(files, message) {
      const sha = commit(work, files, message);
      push(work);
      return sha;
    },
  };
}
