/**
 * The daemon's most recent log lines, kept in memory as pino writes them (a pino destination), so
 * IT can read a box's log remotely (issue 18) in sim mode, in tests and on a box alike, without
 * reading journald (which needs the systemd journal's permissions and a child process).
 */
export class LogRing {
  private readonly lines: string[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  /** A pino destination: one call per JSON line, with its newline. */
  write(chunk: string): void {
    const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    if (this.lines.length < this.capacity) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The last `max` lines, oldest first. */
  recent(max = this.capacity): string[] {
    const ordered =
      this.lines.length < this.capacity
        ? this.lines
        : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return ordered.slice(Math.max(0, ordered.length - max));
  }
}
