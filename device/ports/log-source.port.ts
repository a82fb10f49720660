/** The daemon's own recent log, for IT's remote "logs" action (issue 18). */
export abstract class LogSourcePort {
  /** The latest JSON log lines, oldest first, at most `max`. */
  abstract recentLines(max: number): Promise<string[]>;
}
