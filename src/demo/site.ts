import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { readFileInside } from '../lib/inside-path.js';

/**
 * Serves deploy.path/current/public, read on every request: a web server whose root is
 * the `current` link, as nginx would be. After a switch the next request sees the new
 * release. `current` is autopull's own link and is followed; a link the commit made
 * (public/ or the file itself) is not: such a file is answered 404, never read.
 */
export function startSite(deployPath: string): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    '/': ['index.html', 'text/html; charset=utf-8'],
    '/index.html': ['index.html', 'text/html; charset=utf-8'],
    '/version.json': ['version.json', 'application/json'],
  };
  const server = createServer((req, res) => {
    const entry = files[(req.url ?? '/').split('?')[0] ?? '/'];
    if (!entry) {
      res.writeHead(404).end('not found\n');
      return;
    }
    let data: Buffer;
    try {
      data = readFileInside(join(deployPath, 'current'), `public/${entry[0]}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') res.writeHead(503, { 'content-type': 'text/plain' }).end('nothing deployed yet\n');
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (a link or not a file)\n');
      return;
    }
    res.writeHead(200, { 'content-type': entry[1], 'cache-control': 'no-store' }).end(data);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}
