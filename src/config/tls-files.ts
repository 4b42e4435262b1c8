import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';

/** What `tls:` names, read: given to the HTTPS server at start and at each reload. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the (first) certificate, as X509Certificate gives it. */
  fingerprint256: string;
  /** When the certificate expires (its notAfter). */
  validTo: string;
}

/**
 * Reads the certificate and key and checks that they make a usable pair (the key matches
 * the certificate), so a typo or a renewal that wrote only one of the two is refused at
 * load, naming the file, instead of failing every TLS handshake later.
 */
export function readTlsFiles(paths: { cert: string; key: string }): { files: TlsFiles } | { problems: string[] } {
  const problems: string[] = [];
  const read = (what: 'cert' | 'key', path: string): Buffer | null => {
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`tls.${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return null;
    }
  };
  const cert = read('cert', paths.cert);
  const key = read('key', paths.key);
  if (!cert || !key) return { problems };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return { problems: [`tls.cert: ${paths.cert} is not a PEM certificate: ${(err as Error).message}`] };
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const msg = (err as Error).message;
    const mismatch = /mismatch|does not match/i.test(msg);
    return { problems: [mismatch ? `tls.key: ${paths.key} is not the key of the certificate in ${paths.cert}` : `tls.key: ${paths.key} cannot be used with ${paths.cert}: ${msg}`] };
  }
  return { files: { cert, key, fingerprint256: x509.fingerprint256, validTo: x509.validTo } };
}
