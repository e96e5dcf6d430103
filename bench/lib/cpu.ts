/**
 * Who used the CPU during a measurement: the server process, this driver process (its worker
 * threads included), and everything else on the machine. On a 2-core machine the driver and
 * the server share the cores, and anything else running (a build, a test suite) takes from
 * both; the report shows it next to every figure it can distort.
 */
import { readFileSync } from 'node:fs';

/** Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

const machineBusyTicks = (): number => {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
  return fields.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + (v || 0)), 0);
};

const processTicks = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
};

export interface CpuUse {
  /** Average cores busy over the window. */
  readonly server: number;
  readonly driver: number;
  readonly other: number;
  readonly seconds: number;
  /**
   * Share of the window during which some runnable task waited for a CPU (Linux PSI,
   * /proc/pressure/cpu "some"): near 0 on a quiet machine, high when the cores are oversubscribed.
   */
  readonly cpuPressurePct?: number;
}

/** Total µs some task has waited for a CPU since boot, or undefined without PSI. */
const cpuPressureUs = (): number | undefined => {
  try {
    const match = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
};

export const cpuMeter = (serverPid: number) => {
  const start = { at: performance.now(), machine: machineBusyTicks(), server: processTicks(serverPid), driver: processTicks(process.pid), pressure: cpuPressureUs() };
  return {
    stop(): CpuUse {
      const seconds = (performance.now() - start.at) / 1000;
      const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
      const server = processTicks(serverPid) - start.server;
      const driver = processTicks(process.pid) - start.driver;
      const machine = machineBusyTicks() - start.machine;
      const pressure = cpuPressureUs();
      const pressurePct = start.pressure !== undefined && pressure !== undefined ? Math.round((pressure - start.pressure) / (seconds * 1e4)) : undefined;
      return {
        server: cores(server),
        driver: cores(driver),
        other: Math.max(0, cores(machine - server - driver)),
        seconds: Math.round(seconds * 10) / 10,
        ...(pressurePct !== undefined ? { cpuPressurePct: pressurePct } : {}),
      };
    },
  };
};
