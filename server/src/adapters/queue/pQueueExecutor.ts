/** Executor on p-queue. Errors of a job are reported to `onError`, never thrown into the queue. */
import PQueue from 'p-queue';
import type { Executor } from '../../ports/executor';

export class PQueueExecutor implements Executor {
  private readonly queue: PQueue;

  constructor(
    concurrency: number,
    private readonly onError: (e: unknown) => void,
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, concurrency) });
  }

  add(job: () => Promise<void>, priority: number): void {
    // p-queue runs higher numbers first; our 0 is the highest priority.
    void this.queue.add(() => job().catch(this.onError), { priority: 4 - priority });
  }

  get load(): number {
    return this.queue.size + this.queue.pending;
  }

  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}
