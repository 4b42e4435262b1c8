import { Agent, request } from 'undici';

/** What a steady load saw: every answer's status and the body's first line, and every failure. */
export interface LoadResult {
  requests: number;
  failures: string[];
  statuses: Map<number, number>;
  /** How many answers had each body (the fixture app answers "version N release ..."). */
  versions: Map<string, number>;
}

/**
 * Keeps `concurrency` kept-alive connections busy with GET `url` until `stop()` is called,
 * bounded by `maxRequests` and `maxMs` whatever happens. A connection error or a non-2xx
 * answer is a failure.
 */
export function steadyLoad(url: string, o: { concurrency?: number; maxRequests?: number; maxMs?: number } = {}): { stop(): Promise<LoadResult>; result: LoadResult } {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: o.concurrency ?? 4 });
  const result: LoadResult = { requests: 0, failures: [], statuses: new Map(), versions: new Map() };
  const maxRequests = o.maxRequests ?? 50_000;
  const end = Date.now() + (o.maxMs ?? 120_000);
  let stopped = false;
  const worker = async () => {
    while (!stopped && result.requests < maxRequests && Date.now() < end) {
      result.requests++;
      try {
        const res = await request(url, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        const body = await res.body.text();
        result.statuses.set(res.statusCode, (result.statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode < 200 || res.statusCode > 299) result.failures.push(`${res.statusCode}: ${body.slice(0, 200)}`);
        const version = /^version \S+/.exec(body)?.[0] ?? body.slice(0, 40);
        result.versions.set(version, (result.versions.get(version) ?? 0) + 1);
      } catch (err) {
        result.failures.push(`error: ${(err as Error).message}`);
      }
    }
  };
  const workers = Array.from({ length: o.concurrency ?? 4 }, worker);
  return {
    result,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      await agent.close();
      return result;
    },
  };
}
