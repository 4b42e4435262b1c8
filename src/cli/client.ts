import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { checkServerIdentity, rootCertificates } from 'node:tls';
import type { Config } from '../config/load.js';
import { localToken, serverInfoPath, type ServerInfo } from '../daemon/paths.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { AppError } from '../lib/errors.js';

/** How the CLI talks to a running server: found through data_dir/server.json. */
export interface ApiClient {
  url: string;
  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/**
 * One HTTP(S) request. Over HTTPS the server is trusted when it shows the certificate the
 * config's `tls.cert` holds (pinned by fingerprint, so a self-signed one works and the name
 * in it need not be the listen address), or else a certificate that verifies as usual.
 */
function send(url: string, opts: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number }, config: Config): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const pinned = config.tlsFiles;
  const tlsOptions: RequestOptions = pinned
    ? {
        ca: [pinned.cert.toString(), ...rootCertificates],
        checkServerIdentity: (host, cert) => (cert.fingerprint256 === pinned.fingerprint256 ? undefined : checkServerIdentity(host, cert)),
      }
    : {};
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: opts.method, headers: opts.headers, timeout: opts.timeoutMs, ...(u.protocol === 'https:' ? tlsOptions : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method} ${url}: no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function findServer(config: Config): Promise<ApiClient | null> {
  const file = serverInfoPath(config);
  if (!existsSync(file)) return null;
  let info: ServerInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return null;
  }
  if (!isSameProcessAlive(info.pid, null)) return null;
  try {
    const res = await send(`${info.url}/healthz`, { method: 'GET', headers: {}, timeoutMs: 2000 }, config);
    if (res.status !== 200) return null;
  } catch (err) {
    // A server runs but cannot be trusted: never fall back to working beside it in-process.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/CERT|TLS|SSL|SELF_SIGNED|ALTNAME|ISSUER/.test(code)) {
      throw new AppError('forbidden', `the server at ${info.url} shows a certificate that is neither the one in tls.cert${config.tls ? ` (${config.tls.cert})` : ''} nor one this machine trusts (${code}); if the file was just renewed, reload autopull (kill -HUP ${info.pid})`);
    }
    return null;
  }
  const token = config.auth_token ?? localToken(config);
  return {
    url: info.url,
    async request<T>(method: string, path: string, body?: unknown) {
      const res = await send(
        `${info.url}${path}`,
        {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          timeoutMs: 30_000,
        },
        config,
      );
      return { status: res.status, body: JSON.parse(res.text) as T };
    },
  };
}
