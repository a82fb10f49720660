import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { LogRing } from './log-ring.js';

/** How many of the latest lines the process keeps for IT's remote "logs" action (issue 18). */
const RECENT_LINES = 500;
const recent = new LogRing(RECENT_LINES);

/**
 * JSON lines on stdout (journald collects them on the box), and the latest of them in memory. The
 * streams take every level: the logger's own level decides what is written at all.
 */
let root: PinoLogger = pino(
  {
    level: process.env.CLASSBOX_LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.multistream([
    { level: 'trace', stream: pino.destination({ dest: 1, sync: true }) },
    { level: 'trace', stream: recent },
  ]),
);

/** The process's latest log lines (JSON, oldest first), at most `max`. */
export function recentLogLines(max = RECENT_LINES): string[] {
  return recent.recent(max);
}

export type Logger = PinoLogger;

export function configureLogging(level: LevelWithSilent): void {
  root.level = level;
}

/** Replace the root logger (tests capture lines with a custom destination). */
export function setRootLogger(logger: PinoLogger): void {
  root = logger;
}

/** One logger per class: `createLogger(ClassSessionService.name)`. */
export function createLogger(name: string): Logger {
  return root.child({ ctx: name });
}

/** Routes Nest's own messages into the same JSON lines. */
export class NestJsonLogger implements LoggerService {
  log(message: unknown, context?: string): void {
    createLogger(context ?? 'Nest').info(String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    createLogger(context ?? 'Nest').error({ trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    createLogger(context ?? 'Nest').warn(String(message));
  }
  debug(message: unknown, context?: string): void {
    createLogger(context ?? 'Nest').debug(String(message));
  }
  verbose(message: unknown, context?: string): void {
    createLogger(context ?? 'Nest').trace(String(message));
  }
}
