import { z } from '../lib/zod.js';
import type { OpName, Request } from './protocol.js';

/** The argument schema of each op: a request is checked before any handler sees it. */
const name = z.string().min(1).max(200);
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().min(0).max(24 * 3600 * 1000);
const none = z.strictObject({});

const ARGS = {
  status: none,
  'proxy.listen': z.strictObject({ repo: name, host: z.string().min(1).max(255), port: z.number().int().min(0).max(65535), trustProxy: z.union([z.boolean(), z.array(z.string().max(64)).max(1000)]) }),
  'proxy.close': z.strictObject({ repo: name }),
  'instance.start': z.strictObject({
    repo: name,
    release: name,
    cwd: z.string().min(1).max(4096),
    command: z.string().min(1).max(65536),
    env: z.record(z.string(), z.string()),
    port: port.optional(),
    logFile: z.string().min(1).max(4096),
    minUptimeMs: ms,
    maxRestarts: z.number().int().min(0).max(1000),
  }),
  'instance.stop': z.strictObject({ id: name, stopTimeoutMs: ms }),
  route: z.strictObject({ repo: name, id: name.nullable(), drainMs: ms }),
  retire: z.strictObject({ id: name, stopTimeoutMs: ms }),
  shutdown: none,
} satisfies Record<OpName, z.ZodType>;

export function parseRequest(line: string): { ok: true; request: Request } | { ok: false; id: number; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, id: 0, message: 'not JSON' };
  }
  const head = z.object({ id: z.number().int().min(0), op: z.string(), args: z.unknown() }).safeParse(raw);
  if (!head.success) return { ok: false, id: 0, message: 'a request is {"id": N, "op": "...", "args": {...}}' };
  const { id, op } = head.data;
  if (!Object.hasOwn(ARGS, op)) return { ok: false, id, message: `unknown op "${op}"; known: ${Object.keys(ARGS).join(', ')}` };
  const args = ARGS[op as OpName].safeParse(head.data.args ?? {});
  if (!args.success) return { ok: false, id, message: `${op}: ${args.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ')}` };
  return { ok: true, request: { id, op: op as OpName, args: args.data as never } };
}
