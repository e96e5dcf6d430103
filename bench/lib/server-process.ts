/**
 * A server under test in its own process, started the way users start it: `node cli.js serve
 * --port 0 ...`, ready when it prints its "listening on URL" line. The bench never shares a
 * process (or an event loop, or a CPU scheduler slot it could hide in) with the server it
 * measures. RSS comes from /proc/<pid>/status; event-loop delay and heap from the preloaded probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { PROBE } from '../paths.js';

export interface ProbeStats {
  /** True when a full GC ran just before the memory was read. */
  readonly gc: boolean;
  readonly eventLoopDelayMs: { min: number; mean: number; p50: number; p99: number; max: number };
  readonly memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident set size in bytes, as the kernel counts it (VmRSS). */
  rssBytes(): number;
  /** The highest RSS since the process started (VmHWM), in bytes. */
  peakRssBytes(): number;
  /**
   * Event-loop delay since the last reset, and heap, as the server process sees them; with
   * `gc`, after a full garbage collection (the retained heap; it stalls the server briefly).
   */
  probe(options?: { gc?: boolean }): Promise<ProbeStats>;
  resetProbe(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines the server wrote on stderr (for failure reports). */
  stderrTail(): string;
}

export interface SpawnOptions {
  readonly script: string;
  readonly args: readonly string[];
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR]. */
  readonly nodeArgs?: readonly string[];
  /** The stdout line that says the server is up; group 1 is its base URL. */
  readonly ready: RegExp;
  readonly timeoutMs?: number;
}

export const spawnServer = (options: SpawnOptions): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--import', pathToFileURL(PROBE).href, options.script, ...options.args],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    let stdout = '';
    let stderr = '';
    let settled = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}\nstderr: ${stderr.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`${options.script} did not print its listening line within ${options.timeoutMs ?? 20_000} ms`), options.timeoutMs ?? 20_000);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.once('exit', (code, signal) => fail(`${options.script} exited early (code ${code}, signal ${signal})`));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (settled) return;
      stdout += chunk;
      const match = options.ready.exec(stdout);
      if (!match?.[1]) return;
      settled = true;
      clearTimeout(timer);
      resolve(handle(child, match[1], exited, () => stderr));
    });
  });

const handle = (child: ChildProcess, url: string, exited: Promise<void>, stderr: () => string): ServerProcess => {
  let nextId = 1;
  const pending = new Map<number, (value: unknown) => void>();
  child.on('message', (message: { probe?: string; id?: number }) => {
    const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
    if (waiter && message.id !== undefined) {
      pending.delete(message.id);
      waiter(message);
    }
  });
  const ask = <T>(probe: 'stats' | 'reset', gc = false): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the server probe did not answer '${probe}' within 10 s`));
      }, 10_000);
      pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value as T);
      });
      child.send({ probe, id, gc });
    });
  const pid = child.pid as number;
  return {
    url,
    pid,
    rssBytes: () => readRssBytes(pid),
    peakRssBytes: () => readRssBytes(pid, 'VmHWM'),
    probe: (options) => ask<ProbeStats>('stats', options?.gc ?? false),
    resetProbe: async () => {
      await ask('reset');
    },
    stop: async (graceMs = 6000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    stderrTail: () => stderr().slice(-2000),
  };
};

/** VmRSS (or VmHWM, its peak) from /proc/<pid>/status, in bytes (the kernel reports kB). */
export const readRssBytes = (pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
};
