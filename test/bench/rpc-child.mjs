/**
 * The child side of the benchmark's IPC: each message `{id, cmd, args}` runs `handlers[cmd](args)`
 * and answers `{id, result}` or `{id, error}`. Plain JavaScript so that the measured processes run
 * compiled code without the tsx loader.
 */
export function serveRpc(handlers) {
  process.on('message', async (message) => {
    const { id, cmd, args } = message;
    try {
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(args ?? {});
      process.send({ id, result });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  // The parent is gone (or done with us): whatever is still open must not keep this process alive.
  process.once('disconnect', () => {
    setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
      process.stderr.write(`bench child ${process.pid}: still running 5 s after the parent disconnected (open: ${open.join(', ') || 'timers'}); exiting\n`);
      process.exit(70);
    }, 5000).unref();
  });
  process.send({ ready: true });
}
