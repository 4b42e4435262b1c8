import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout (or a file descriptor), one logger for the whole daemon. */
export function createLogger(level = process.env.AUTOPULL_LOG_LEVEL ?? 'info', destination?: number | string): Logger {
  return pino({ level, base: { name: 'autopull' } }, destination === undefined ? undefined : pino.destination(destination));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
