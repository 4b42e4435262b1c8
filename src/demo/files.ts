/** The files of the demo's small web app and its git hook. */

export const APP_FILES: Record<string, string> = {
  'version.txt': '1\n',
  '.gitignore': 'public/\n',
  'build.mjs': `// Build step of the autopull demo app: renders public/ from version.txt.
// autopull runs it in the new release directory, with AUTOPULL_SHA and friends set.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const version = readFileSync('version.txt', 'utf8').trim();
const sha = process.env.AUTOPULL_SHA ?? 'unknown';
mkdirSync('public', { recursive: true });
writeFileSync('public/version.json', JSON.stringify({ version, sha }) + '\\n');
writeFileSync('public/index.html', \`<!doctype html>
<title>autopull demo</title>
<h1>autopull demo</h1>
<p>version <b id="version">\${version}</b>, commit <code>\${sha.slice(0, 7)}</code></p>
\`);
console.log('built version ' + version + ' of commit ' + sha.slice(0, 7));
`,
};

/**
 * post-receive hook for the demo's bare repository: sends autopull a GitHub-style push
 * delivery, signed with the repo's secret, for each pushed ref. Reads its URL and secret
 * from a JSON file so that nothing is substituted into the script's text.
 */
export function hookScript(nodePath: string, settingsFile: string): string {
  return `#!${nodePath}
// autopull demo: what GitHub does after a push, for a bare repository on this machine.
'use strict';
const { createHmac, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const settings = JSON.parse(readFileSync(${JSON.stringify(settingsFile)}, 'utf8'));
const zero = /^0+$/;
(async () => {
  const lines = readFileSync(0, 'utf8').trim().split('\\n').filter(Boolean);
  for (const line of lines) {
    const [before, after, ref] = line.split(' ');
    const body = JSON.stringify({
      ref, before, after,
      created: zero.test(before), deleted: zero.test(after), forced: false,
      head_commit: zero.test(after) ? null : { id: after },
      repository: { name: 'site', full_name: 'demo/site', clone_url: settings.remote },
      pusher: { name: process.env.USER || 'demo' },
    });
    const signature = 'sha256=' + createHmac('sha256', settings.secret).update(body).digest('hex');
    try {
      const res = await fetch(settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'autopull-demo-hook',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signature,
        },
        body,
      });
      const answer = await res.json();
      console.log('autopull: ' + res.status + ' ' + answer.message);
    } catch (err) {
      console.log('autopull: could not deliver the webhook: ' + err.message);
    }
  }
})();
`;
}
