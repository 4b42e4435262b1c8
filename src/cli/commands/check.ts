import { configPath, loadConfig } from '../../config/load.js';

export async function checkCommand(opts: { config?: string }): Promise<void> {
  const file = configPath(opts.config);
  const config = loadConfig(file);
  const names = [...config.repos.keys()];
  console.log(`${file}: ok (${names.length} repo${names.length === 1 ? '' : 's'}: ${names.join(', ') || 'none'})`);
}
