import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** A real HTTP server on 127.0.0.1 with an OS-chosen port, closed when the test ends. */
export async function backend(t: { after(fn: () => unknown): void }, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}
