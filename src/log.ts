import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Human-readable lines for a terminal; JSON otherwise. */
  pretty: boolean;
}

export function createLogger({ level, pretty }: LoggerOptions): Logger {
  return pino({
    level,
    // Connection params and headers may carry credentials: never log them, even by accident.
    redact: ['connectionParams', 'headers.authorization', 'headers.cookie', 'authorization', 'cookie', 'token'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
