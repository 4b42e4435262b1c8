import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Writes a line into a FIFO once a reader has it open, and fails after `ms` when none does.
 * A plain writeFile would block (writeFileSync: the whole event loop, so no test timeout can
 * fire) for as long as no reader comes, which turns a wrong expectation into a hung suite.
 * Opening with O_NONBLOCK fails with ENXIO while nobody reads: there is no event for a reader
 * arriving, so this polls.
 */
export async function writeFifo(fifo: string, line = 'go\n', ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      if (Date.now() > deadline) throw new Error(`nobody opened ${fifo} for reading within ${ms} ms`);
      await delay(20);
      continue;
    }
    try {
      writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
    return;
  }
}
