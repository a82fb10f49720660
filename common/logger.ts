import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

const OPTIONS = {
  level: process.env.CLASSBOX_LOG_LEVEL ?? 'info',
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/** JSON lines on stdout: journald collects them on the box. */
let root: PinoLogger = pino(OPTIONS);

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
  root = pino({ ...OPTIONS, level: root.level }, pino.destination({ dest: file, mkdir: true, sync: true }));
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
