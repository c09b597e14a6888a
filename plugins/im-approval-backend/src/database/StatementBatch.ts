interface Pending<In, Out> {
  input: In;
  resolve(output: Out): void;
  reject(error: unknown): void;
}

/**
 * Calls made in the same turn of the event loop go to the database as one statement: in a burst of
 * callbacks or of waiters woken at once, one round trip (and one commit) serves them all, where
 * each would otherwise pay its own. A call waits at most for the end of the current turn.
 *
 * `run` answers each input in order. When a batch of several fails, each input is tried alone, so
 * one the database refuses cannot fail the others with it.
 */
export class StatementBatch<In, Out> {
  private queue: Array<Pending<In, Out>> = [];
  private scheduled = false;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxSize: number,
  ) {}

  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.maxSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush() {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    void this.execute(batch);
  }

  private async execute(batch: Array<Pending<In, Out>>) {
    try {
      const outputs = await this.run(batch.map(item => item.input));
      batch.forEach((item, i) => item.resolve(outputs[i]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      for (const item of batch)
        this.run([item.input]).then(
          ([output]) => item.resolve(output),
          item.reject,
        );
    }
  }
}
