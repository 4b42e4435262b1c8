#!/usr/bin/env node
// The runtime process: `node entry.js DATA_DIR [--ready-fd N]`, started by serve (client.ts).
import { ConnectionBudget, createProxy } from '../proxy/index.js';
import { createLogger } from '../lib/log.js';
import { openFileLimit } from '../lib/fd-limit.js';
import { runRuntime } from './main.js';
import { proxyConnectionCap } from './runtime.js';

const [dataDir, flag, fd] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: entry DATA_DIR [--ready-fd N]');
  process.exit(2);
}
const log = createLogger(process.env.AUTOPULL_LOG_LEVEL ?? 'info');
const maxConnections = proxyConnectionCap(openFileLimit());
// The cap is what the descriptors allow for the runtime as a whole: every repo's proxy draws on it.
const budget = new ConnectionBudget(maxConnections);
await runRuntime(dataDir, ({ trustProxy }) => createProxy({ trustProxy, log, maxConnections, budget }), flag === '--ready-fd' ? Number(fd) : undefined);
