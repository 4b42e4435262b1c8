import { dirname } from 'node:path';
import { configPath } from '../../config/load.js';

export async function systemdCommand(opts: { config?: string }): Promise<void> {
  const file = configPath(opts.config);
  const bin = process.argv[1] ?? 'autopull';
  console.log(`[Unit]
Description=autopull push-to-deploy server
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory=${dirname(file)}
ExecStart=${process.execPath} ${bin} serve -c ${file}
# Secrets referenced as \${VAR} in the config:
# EnvironmentFile=/etc/autopull/env
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target`);
}
