import { RuntimeClient } from '../../src/runtime/client.js';
import { runtimePaths } from '../../src/runtime/runtime.js';

/** Stops the data_dir's runtime (its proxies and apps) through its socket; nothing when none runs. */
export async function stopRuntime(dataDir: string): Promise<void> {
  let c: RuntimeClient;
  try {
    c = await RuntimeClient.connect(runtimePaths(dataDir).socket);
  } catch {
    return;
  }
  const gone = new Promise<void>((resolve) => c.once('close', () => resolve()));
  await c.request('shutdown', {}).catch(() => undefined);
  await gone;
}
