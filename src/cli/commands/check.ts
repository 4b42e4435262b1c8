import { configPath, loadConfig } from '../../config/load.js';
import { ConfigError } from '../../lib/errors.js';
import { deepCheck } from '../deep-check.js';

/**
 * `autopull check [--deep]`: the config's problems, every one with its path (exit 1 on
 * any). `--deep` adds what only this machine can tell (deep-check.ts).
 */
export async function checkCommand(opts: { config?: string; deep?: boolean }): Promise<void> {
  const file = configPath(opts.config);
  const config = loadConfig(file);
  const names = [...config.repos.keys()];
  const summary = `${names.length} repo${names.length === 1 ? '' : 's'}: ${names.join(', ') || 'none'}`;
  if (!opts.deep) {
    console.log(`${file}: ok (${summary})`);
    return;
  }
  const { problems, notes } = await deepCheck(config);
  for (const n of notes) console.log(`note: ${n}`);
  if (problems.length > 0) throw new ConfigError(file, problems);
  console.log(`${file}: ok (${summary}); remotes answer, paths are writable, shared files exist, ports are free`);
}
