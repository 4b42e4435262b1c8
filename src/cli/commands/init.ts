import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../lib/atomic-fs.js';
import { AppError } from '../../lib/errors.js';

export function starterConfig(secret: string, token: string): string {
  return `# autopull configuration. Check it with: autopull check -c THIS_FILE
# Full reference: README.md; JSON Schema: config.schema.json in the package.
# Any value may use \${VAR} (read from the environment at start; an unset one is an error).

# Where autopull listens for webhooks, the API and the dashboard.
listen: 127.0.0.1:8686
# To serve HTTPS itself (read again at each reload: systemctl reload autopull):
# tls: { cert: /etc/autopull/cert.pem, key: /etc/autopull/key.pem }
# At a stop, how long a running job may finish before it is resumed at the next start.
shutdown_grace: 5m
# SQLite database, fetched repos and job logs. Relative paths are relative to this file.
data_dir: ./.autopull
# Bearer token for the API (and the CLI when it talks to a running server).
auth_token: ${token}
# Whose X-Forwarded-For to believe: false (nobody), true (your one reverse proxy: the client
# is the right-most entry), or your proxies' CIDR blocks, e.g. [127.0.0.1/32].
trust_proxy: false

repos:
  # The name is used in the webhook URL: https://YOUR-HOST/hooks/blog
  blog:
    # autopull fetches from here itself; a payload's URL is never used.
    url: https://github.com/acme/blog.git
    # The webhook secret: paste the same value into the host's webhook form.
    # Prefer secret: \${BLOG_SECRET} to keep it out of this file.
    secret: ${secret}
    # Pushes to these branches deploy (globs allowed). Tags deploy only if listed: tags: ['v*']
    branches: [main]
    deploy:
      # releases/<time>-<sha>/, current -> releases/<id>, shared/
      path: /srv/blog
      # Shell commands run in the new release directory, in order. A failure stops the
      # deploy and the old release keeps serving.
      build:
        - npm ci --omit=dev
      # Linked from /srv/blog/shared into every release (a trailing / marks a folder).
      shared: [.env, uploads/]
      # Run after current switched to the new release; if it fails, autopull switches back.
      restart: sudo systemctl restart blog
      # Releases kept for rollback.
      keep: 5
      # Limit for the whole job.
      timeout: 10m
`;
}

export async function initCommand(file: string, opts: { force?: boolean }): Promise<void> {
  const path = resolve(file);
  if (existsSync(path) && !opts.force) throw new AppError('conflict', `${path} already exists (use --force to overwrite)`);
  const secret = randomBytes(20).toString('hex');
  const token = randomBytes(24).toString('hex');
  // 0600: the file holds a webhook secret and the API token.
  writeFileAtomic(path, starterConfig(secret, token), 0o600);
  console.log(`wrote ${path}`);
  console.log('next: edit repos.blog (url, deploy.path, build), then run: autopull check -c ' + file);
}
