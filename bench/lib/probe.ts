/**
 * Preloaded (`node --import`) into every server process the bench starts, Conclave and the
 * baselines alike, so the server's own code stays untouched. It measures what only the process
 * itself can see, event-loop delay and heap, and answers over the IPC channel the bench opens.
 * Without an IPC channel (a normal start) it does nothing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

type ProbeRequest = { probe: 'stats' | 'reset'; id: number; gc?: boolean };

/**
 * A full garbage collection on request, without starting the server with --expose-gc: the
 * flag set at run time exposes `gc` to contexts created afterwards. Used only to read the heap
 * that is really retained (live calls, sessions), never during a timed measurement.
 */
const collectGarbage = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

if (process.send && process.channel) {
  // 10 ms is Node's default sampling period: fine-grained enough to see stalls, cheap to run.
  const RESOLUTION_MS = 10;
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eld.enable();
  // The histogram holds the intervals between the sampling timer's runs (≥ the 10 ms period);
  // the delay is what exceeds the period.
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e3) / 1e3 - RESOLUTION_MS);
  process.on('message', (message: ProbeRequest) => {
    if (!message || typeof message !== 'object' || !('probe' in message)) return;
    if (message.probe === 'reset') {
      eld.reset();
      process.send?.({ probe: 'reset', id: message.id });
      return;
    }
    if (message.gc) collectGarbage?.();
    const mem = process.memoryUsage();
    process.send?.({
      gc: Boolean(message.gc && collectGarbage),
      probe: 'stats',
      id: message.id,
      eventLoopDelayMs: { min: ms(eld.min), mean: ms(eld.mean), p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers },
    });
  });
  // The IPC channel must never keep a server alive that was asked to stop, and a server whose
  // bench has died (the channel closes with it) must not outlive it.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
