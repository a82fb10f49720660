import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { LogRing } from './log-ring.js';

const OPTIONS = {
  level: process.env.CLASSBOX_LOG_LEVEL ?? 'info',
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/** How many of the latest lines the process keeps for IT's remote "logs" action (issue 18). */
const RECENT_LINES = 500;
const recent = new LogRing(RECENT_LINES);

/**
 * JSON lines on stdout (journald collects them on the box), or a file (`logToFile`), and the latest of
 * them in memory. The streams take every level: the logger's own level decides what is written at all.
 */
function withRecent(destination: pino.DestinationStream): pino.MultiStreamRes {
  return pino.multistream([
    { level: 'trace', stream: destination },
    { level: 'trace', stream: recent },
  ]);
}

let root: PinoLogger = pino(OPTIONS, withRecent(pino.destination({ dest: 1, sync: true })));

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

/**
 * The same JSON lines into a file instead of stdout (the demo keeps its terminal for people).
 * Loggers made before the call keep writing where they did.
 */
export function logToFile(file: string): void {
  root = pino(
    { ...OPTIONS, level: root.level },
    withRecent(pino.destination({ dest: file, mkdir: true, sync: true })),
  );
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
