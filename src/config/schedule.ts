/** How often a cron schedule runs, sampled from node-cron's own next runs. */
import { createTask } from 'node-cron';

/** The gaps between the next `samples + 1` runs of `expression`, in ms. */
export function scheduleGapsMs(expression: string, samples = 24): number[] {
  const task = createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(samples + 1).map((d) => d.getTime());
    return runs.slice(1).map((run, i) => run - runs[i]!);
  } finally {
    void task.destroy();
  }
}
