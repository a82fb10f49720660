/**
 * Group commit: writes submitted while the previous batch is being written wait and go together
 * in the next one, so the database sees one transaction per batch instead of one per request.
 * Every caller still waits for its own write to be committed (nothing is answered before it is
 * stored), and items are handed to `write` in the order they were submitted.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private draining = false;

  /**
   * @param write stores a batch and returns one result per item, in order; a throw fails the whole
   *   batch (its transaction is rolled back) and every caller in it sees the error.
   * @param later when to start a batch once the writer is idle: after the requests already read
   *   from the network have had their turn (setImmediate in the server), so they join it.
   */
  constructor(
    private readonly write: (items: readonly T[]) => Promise<readonly R[]>,
    private readonly maxBatch: number,
    private readonly later: (run: () => void) => void,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        this.later(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.write(batch.map((b) => b.item));
        if (results.length !== batch.length)
          throw new Error(`a batch of ${batch.length} writes returned ${results.length} results`);
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.draining = false;
  }
}
