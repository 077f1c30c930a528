/**
 * The root pino logger (STYLE.md section 7): one per process, child loggers per component.
 * Logs go to stdout (or the configured logfile) asynchronously; fatal exits flush first.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** redis.conf's loglevel names mapped to pino levels. */
export function pinoLevel(redisLevel: string): LogLevel {
  switch (redisLevel) {
    case 'debug':
      return 'debug';
    case 'verbose':
    case 'notice':
      return 'info';
    case 'warning':
      return 'warn';
    case 'nothing':
      return 'fatal';
    default:
      return 'info';
  }
}

export function createLogger(level: LogLevel, logfile: string): { logger: Logger;
  destination: DestinationStream & { flushSync?: () => void } } {
  const destination = pino.destination({
    dest: logfile === '' ? 1 : logfile,
    sync: false,
    mkdir: true,
    minLength: 0,
  });
  const logger = pino({ level, base: { pid: process.pid } }, destination);
  return { logger, destination };
}
