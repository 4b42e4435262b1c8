import { dirname, resolve } from 'node:path';
import { configPath, loadConfig, parseListen, type Config } from '../../config/load.js';
import { UsageError } from '../../lib/errors.js';

/** Room after shutdown_grace and the apps' stop_timeout before systemd sends SIGKILL. */
const STOP_MARGIN_S = 30;

/** What the unit must let autopull write: data_dir and each deploy path. */
function writablePaths(config: Config): string[] {
  const paths = new Set<string>([config.data_dir]);
  for (const r of config.repos.values()) if (r.deploy) paths.add(r.deploy.path);
  return [...paths];
}

/** A listen or proxy address below 1024 needs CAP_NET_BIND_SERVICE. */
function needsLowPorts(config: Config): boolean {
  const ports = [config.listen.port, ...[...config.repos.values()].flatMap((r) => (r.deploy?.proxy ? [parseListen(r.deploy.proxy).port] : []))];
  return ports.some((p) => p > 0 && p < 1024);
}

function stopTimeoutSeconds(config: Config): number {
  const appStop = Math.max(10_000, ...[...config.repos.values()].map((r) => r.deploy?.stop_timeout ?? 0));
  return Math.ceil((config.shutdown_grace + appStop) / 1000) + STOP_MARGIN_S;
}

/** Unit lines that quote a value: systemd splits on spaces unless it is in double quotes. */
const q = (s: string) => (/[\s"\\]/.test(s) ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s);

/** The comment at the top of the unit: how to install it and what to know. */
function header(config: Config, file: string, user: string): string {
  const rw = writablePaths(config);
  const sudo = [...config.repos.values()].filter((r) => /^\s*sudo\b/.test(r.deploy?.restart ?? '')).map((r) => r.name);
  return `# autopull.service, printed by: autopull systemd -c ${file}
# Install (as root):
#   useradd --system --home-dir /var/lib/${user} --shell /usr/sbin/nologin ${user}
#   install -d -o ${user} -g ${user} -m 700 ${config.data_dir}
${rw.length > 1 ? `#   install -d -o ${user} -g ${user} -m 755 ${rw.slice(1).join(' ')}\n` : ''}#   autopull systemd -c ${file} > /etc/systemd/system/autopull.service
#   systemctl daemon-reload && systemctl enable --now autopull
# The paths above must exist before the first start (ReadWritePaths= refuses missing ones).
# Reload the config: systemctl reload autopull. Logs: journalctl -u autopull.
# Stop everything, the apps behind autopull's proxy included:
#   sudo -u ${user} autopull stop --all -c ${file}
${sudo.length > 0 ? `#
# WARNING: ${sudo.join(', ')} run deploy.restart with sudo, which NoNewPrivileges=yes and
# RestrictSUIDSGID=yes forbid. Prefer a polkit rule that lets ${user} restart that unit
# with systemctl (no sudo), or remove both lines below (less safe).
` : ''}`;
}

/**
 * `autopull systemd`: a hardened unit for `autopull serve` with this config. The config is
 * loaded (the secrets' variables may be unset here: only paths and timings are read) so that
 * the unit names the paths autopull writes and a stop timeout that covers shutdown_grace.
 */
export async function systemdCommand(opts: { config?: string; user?: string }): Promise<void> {
  const file = configPath(opts.config);
  const user = opts.user ?? 'autopull';
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new UsageError(`--user must be a user name (a-z, 0-9, _ and -), not "${user}"`);
  const config = loadConfig(file, process.env, { withoutSecrets: true });
  const bin = resolve(process.argv[1] ?? 'autopull');
  const rw = writablePaths(config);
  const caps = needsLowPorts(config)
    ? '# A listen or proxy port below 1024: the one privilege autopull keeps.\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE'
    : 'CapabilityBoundingSet=';
  console.log(`${header(config, file, user)}
[Unit]
Description=autopull push-to-deploy server
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
User=${user}
Group=${user}
WorkingDirectory=${q(dirname(file))}
Environment=AUTOPULL_CONFIG=${q(file)}
# The values of the config's \${VAR} secrets: VAR=value lines, owned by root, mode 600.
EnvironmentFile=-/etc/autopull/env
ExecStart=${q(process.execPath)} ${q(bin)} serve -c ${q(file)}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2

# Traffic outlives serve. serve starts a runtime process (data_dir/runtime.sock) that owns
# the proxies and the apps behind them; it runs in this unit's control group. With
# KillMode=process, a stop or a restart of this unit signals serve alone: the runtime and
# its apps keep serving through systemctl restart autopull (an upgrade, a config change
# that needs a restart) and the new serve re-attaches to them. serve stops the apps it runs
# on a port (deploy.port) itself, and a job cut short is recorded interrupted and resumed at
# the next start, its leftover processes killed. systemd logs "left-over process" at the
# next start: those are the runtime and its apps, as intended.
KillMode=process
KillSignal=SIGTERM
# shutdown_grace for a running job, then the apps' stop_timeout, then a margin.
TimeoutStopSec=${stopTimeoutSeconds(config)}

# Hardening: autopull writes only data_dir and the deploy paths; builds get a private /tmp
# and a writable HOME (StateDirectory) for their caches.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${rw.map(q).join(' ')}
StateDirectory=${user}
Environment=HOME=/var/lib/${user}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
${caps}
# autopull makes its own files in data_dir owner-only; releases stay readable (a web server
# may serve them).
UMask=0022
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target`);
}
