import { startDemo } from '../../demo/demo.js';

export async function demoCommand(opts: { once?: boolean; keep?: boolean }): Promise<void> {
  const demo = await startDemo({ once: opts.once, keep: opts.keep });
  if (opts.once) {
    await demo.close();
    return;
  }
  console.log(`Press Ctrl-C to stop${opts.keep ? '' : ' (the temp folder is removed)'}.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
  console.log('demo stopped');
}
