#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { AppError, ConfigError, UsageError, errorMessage } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';
import { escapeLines } from '../lib/escape-controls.js';
import { holdYoungGeneration } from '../lib/young-gen.js';

/** The commands that look (status, jobs, releases, logs, apps) and unmark. */
function readCommands(p: Command, withConfig: (c: Command) => Command): void {
  withConfig(p.command('status').description('repos, current release, running and queued jobs'))
    .argument('[repo]')
    .option('--json', 'machine-readable output')
    .action(async (repo: string | undefined, o) => (await import('./commands/status.js')).statusCommand(repo, o));
  withConfig(p.command('jobs').description('job history, newest first'))
    .argument('[repo]')
    .option('--state <states>', 'only jobs in these states, with commas (queued, running, succeeded, failed, skipped, interrupted, ignored)')
    .option('--limit <n>', 'at most this many jobs (1-1000)', '50')
    .option('--json', 'machine-readable output')
    .action(async (repo: string | undefined, o) => (await import('./commands/jobs.js')).jobsCommand(repo, o));
  withConfig(p.command('releases').description("a repo's releases (live, good, failed) and the commits marked bad"))
    .argument('<repo>')
    .option('--json', 'machine-readable output')
    .action(async (repo: string, o) => (await import('./commands/releases.js')).releasesCommand(repo, o));
  withConfig(p.command('unmark').description("clear a commit's bad mark, without deploying it"))
    .argument('<repo>')
    .argument('<sha>', 'the commit, or a unique prefix of at least 7 hex digits')
    .action(async (repo: string, sha: string, o) => (await import('./commands/releases.js')).unmarkCommand(repo, sha, o));
  withConfig(p.command('logs').description("print a job's log, or with --app a supervised app's output (follows while it runs)"))
    .argument('[job]')
    .option('--app <repo>', "the repo's supervised app's output instead: its last 64 KiB, then what it prints")
    .option('--no-follow', 'print what is there and return')
    .action(async (job: string | undefined, o) => (await import('./commands/logs.js')).logsCommand(job, o));
  withConfig(p.command('apps').description('supervised apps: state, release, pid, port, uptime, restarts; behind the proxy every instance'))
    .argument('[repo]')
    .option('--json', 'machine-readable output')
    .action(async (repo: string | undefined, o) => (await import('./commands/apps.js')).appsCommand(repo, o));
}

/** The one place that maps errors to exit codes: 0 ok, 1 failure, 2 usage. */
export function program(): Command {
  const p = new Command('autopull')
    .description('push-to-deploy server: verified webhooks, durable jobs, atomic releases')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run autopull --help for usage)');
  const withConfig = (c: Command) => c.option('-c, --config <file>', 'config file (default: $AUTOPULL_CONFIG, then ./autopull.yml)');

  withConfig(p.command('serve').description('run the server (in the foreground; --daemon detaches)'))
    .option('--daemon', 'detach; return once the server listens (exit 1 with the reason when it cannot start)')
    .option('--pid-file <file>', 'pid file (default: data_dir/autopull.pid)')
    .option('--log-file <file>', 'append the log here, reopened on SIGUSR2 (default with --daemon: data_dir/autopull.log; else stdout)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default: $AUTOPULL_LOG_LEVEL, then info)')
    .addOption(new Option('--ready-fd <fd>', 'set by --daemon: the descriptor to report readiness on').hideHelp())
    .action(async (o) => {
      // Before serve's modules load: released once it listens (lib/young-gen.ts).
      holdYoungGeneration();
      return (await import('./commands/serve.js')).serveCommand(o);
    });
  withConfig(p.command('stop').description('stop a running autopull serve (a running job gets shutdown_grace)'))
    .option('--pid-file <file>', 'pid file (default: data_dir/autopull.pid)')
    .option('--all', 'also stop the runtime: the proxies and the apps behind them')
    .action(async (o) => (await import('./commands/stop.js')).stopCommand(o));
  withConfig(p.command('check').description('validate the config and print every problem'))
    .option('--deep', 'also check the machine: remotes answer, deploy paths are writable, shared files exist, ports are free')
    .action(async (o) => (await import('./commands/check.js')).checkCommand(o));
  p.command('init')
    .description('write a commented starter config')
    .argument('[file]', 'where to write it', 'autopull.yml')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, o) => (await import('./commands/init.js')).initCommand(file, o));
  withConfig(p.command('deploy').description('deploy a repo now, without a webhook'))
    .argument('<repo>')
    .option('--ref <ref>', 'branch, tag or commit (default: the first configured branch)')
    .option('--force', 'deploy even when this commit is already live')
    .option('--no-wait', 'queue the job and return')
    .action(async (repo: string, o) => (await import('./commands/deploy.js')).deployCommand(repo, o));
  withConfig(p.command('rollback').description('switch back to the previous good release (or the one named)'))
    .argument('<repo>')
    .option('--to <release>', 'release id to switch to (see autopull status)')
    .option('--no-wait', 'queue the job and return')
    .action(async (repo: string, o) => (await import('./commands/deploy.js')).rollbackCommand(repo, o));
  withConfig(p.command('mirror').description("fetch and push the repo's mirrors now"))
    .argument('<repo>')
    .option('--no-wait', 'queue the job and return')
    .action(async (repo: string, o) => (await import('./commands/mirror.js')).mirrorCommand(repo, o));
  readCommands(p, withConfig);
  withConfig(p.command('restart').description("restart a repo's supervised app through its health gate (no downtime behind the proxy)"))
    .argument('<repo>')
    .option('--no-wait', 'queue the job and return')
    .action(async (repo: string, o) => (await import('./commands/restart.js')).restartCommand(repo, o));
  p.command('demo')
    .description('a self-contained tour in a temp folder: push, webhook, build, switch')
    .option('--once', 'stop after the first deploy (for scripts)')
    .option('--keep', 'keep the temp folder when the demo stops')
    .action(async (o) => (await import('./commands/demo.js')).demoCommand(o));
  withConfig(p.command('systemd').description('print a hardened systemd unit for autopull serve'))
    .option('--user <name>', 'the system user autopull runs as', 'autopull')
    .action(async (o) => (await import('./commands/systemd.js')).systemdCommand(o));
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help [command]` and --version exit 0; the usage shown for no command at all
      // (commander.help with exit code 1) is a mistake.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      return 2;
    }
    // Messages can carry a job's reason or a server's answer: escaped like all CLI output.
    if (err instanceof UsageError) {
      console.error(`autopull: ${escapeLines(err.message)}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`autopull: config ${escapeLines(err.message)}`);
      return 1;
    }
    if (err instanceof AppError) {
      console.error(`autopull: ${escapeLines(err.message)}`);
      return 1;
    }
    console.error(`autopull: ${escapeLines(errorMessage(err))}`);
    if (process.env.AUTOPULL_DEBUG) console.error(err);
    return 1;
  }
}

const code = await main(process.argv);
process.exitCode = code;
