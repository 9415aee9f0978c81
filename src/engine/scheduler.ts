/**
 * The cycle clock: node-cron with seconds. Overlap is handled by the daemon (a tick that finds a
 * cycle running is skipped and counted), so the scheduler only ticks.
 */
import { createTask, type ScheduledTask, setLogger } from 'node-cron';
import { scheduleGapsMs } from '../config/schedule.js';
import type { Logger } from '../log.js';

/** The longest gap between consecutive runs over the next `samples` runs, in seconds. */
export function scheduleIntervalSeconds(expression: string, samples = 24): number {
  return Math.max(0, ...scheduleGapsMs(expression, samples)) / 1000;
}

export class Scheduler {
  private task?: ScheduledTask;

  constructor(
    private readonly expression: string,
    private readonly onTick: () => void,
    log: Logger,
  ) {
    setLogger({
      info: (message) => log.debug({ component: 'node-cron' }, message),
      warn: (message) => log.debug({ component: 'node-cron' }, message),
      error: (message) => log.error({ component: 'node-cron' }, String(message)),
      debug: (message) => log.trace({ component: 'node-cron' }, String(message)),
    });
  }

  start(): void {
    this.task = createTask(this.expression, () => this.onTick(), { name: 'rollout-doctor-cycle' });
    void this.task.start();
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    if (task) await task.destroy();
  }
}
