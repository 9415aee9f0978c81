/**
 * The parent side of the benchmark's processes: each measured part (the daemon, the simulated
 * cluster) runs in its own Node process without the tsx loader, driven over an IPC channel.
 */
import { type ChildProcess, fork } from 'node:child_process';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Message {
  id?: number;
  ready?: boolean;
  result?: unknown;
  error?: string;
}

export class Child {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (message: Message) => {
      if (message.id === undefined) return;
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) pending.reject(new Error(`${name}: ${message.error}`));
      else pending.resolve(message.result);
    });
    void this.exited.then((code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (code ${code}) with a call pending`));
      this.pending.clear();
    });
  }

  /** Forks `modulePath` with exactly `execArgv` (never the parent's tsx loader) and waits for it. */
  static async start(name: string, modulePath: string, execArgv: string[] = []): Promise<Child> {
    const child = fork(modulePath, [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOG_LEVEL: '', ROLLOUT_DOCTOR_CONFIG: '' },
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: Message) => {
        if (!message.ready) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null) => reject(new Error(`${name} exited (code ${code}) before it was ready`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return new Child(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T = unknown>(cmd: string, args?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  /** Asks the child to close what it holds, then lets it exit (killed after 10 s). */
  async stop<T = unknown>(): Promise<T | undefined> {
    let result: T | undefined;
    try {
      result = await this.call<T>('close');
    } finally {
      if (this.child.connected) this.child.disconnect();
      // A child that does not exit once closed and disconnected holds a handle it should not.
      const timer = setTimeout(() => {
        process.stderr.write(`bench: ${this.name} (pid ${this.pid}) did not exit 10 s after close; killing it\n`);
        this.child.kill('SIGKILL');
      }, 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    return result;
  }
}
