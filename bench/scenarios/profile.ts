/**
 * A CPU profile of the server process during the throughput scenario: Conclave is started with
 * `node --cpu-prof`, runs the conference flow (CometD sessions connected), and writes its
 * .cpuprofile when it exits. The bench reduces it to self time per function and per origin
 * (Conclave's own code, each dependency, Node internals, GC). A separate run: profiling slows
 * the server, so these figures never mix with the measured ones.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import { round } from '../lib/stats.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  readonly function: string;
  readonly location: string;
  readonly origin: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

export interface ProfileResult {
  readonly durationS: number;
  readonly requestsPerSec: number;
  readonly serverCores: number;
  /** Where the raw .cpuprofile was left (outside the repository). */
  readonly rawProfile: string;
  /** Whether the samples were cut to the measured run (else: the whole process lifetime). */
  readonly windowed: boolean;
  readonly totalMs: number;
  readonly top: readonly ProfileEntry[];
  readonly byOrigin: readonly { origin: string; selfMs: number; selfPercent: number }[];
}

export const runProfile = async (config: BenchConfig, directoryFile: string): Promise<ProfileResult> => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-prof-'));
  try {
    const result: ThroughputResult = await runThroughput(config, directoryFile, ['--cpu-prof', '--cpu-prof-dir', dir], config.profile.durationS);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`the server wrote no .cpuprofile in ${dir}`);
    // Kept outside the repository for a closer look (callers, timelines) in Chrome DevTools.
    const kept = join(tmpdir(), 'conclave-bench-last.cpuprofile');
    copyFileSync(join(dir, file), kept);
    const summary = summarizeProfile(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile, result.window);
    return { durationS: result.flow.durationS, requestsPerSec: result.flow.requestsPerSec, serverCores: result.cpu.server, rawProfile: kept, ...summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * Self time per function (summed over call sites) and per origin; idle time is left out. With
 * a window, only the samples taken inside it count (start-up, connection and warm-up are not
 * the throughput scenario).
 */
export const summarizeProfile = (profile: CpuProfile, window?: { startUs: number; endUs: number }, topN = 20) => {
  const byNode = new Map<number, number>();
  const inside = window !== undefined && window.startUs < profile.endTime && window.endUs > profile.startTime;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (inside && (at < window.startUs || at > window.endUs)) return;
    byNode.set(id, (byNode.get(id) ?? 0) + delta);
  });
  const byFunction = new Map<string, { function: string; location: string; origin: string; us: number }>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (us === 0 || functionName === '(idle)') continue;
    const origin = originOf(functionName, url);
    const location = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${location}`;
    const entry = byFunction.get(key) ?? { function: functionName || '(anonymous)', location, origin, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    total += us;
  }
  const pct = (us: number) => round((100 * us) / total, 1);
  return {
    windowed: inside,
    totalMs: round(total / 1000, 1),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ function: e.function, location: e.location, origin: e.origin, selfMs: round(e.us / 1000, 1), selfPercent: pct(e.us) })),
    byOrigin: [...byOrigin.entries()].sort((a, b) => b[1] - a[1]).map(([origin, us]) => ({ origin, selfMs: round(us / 1000, 1), selfPercent: pct(us) })),
  };
};

const originOf = (functionName: string, url: string): string => {
  if (!url) return functionName.startsWith('(') ? functionName : 'native';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  if (/\/src\//.test(url)) return 'conclave';
  return 'other';
};

const shorten = (url: string): string => {
  const pkg = /\/node_modules\/(.*)$/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const src = /\/(src\/.*)$/.exec(url);
  if (src?.[1]) return src[1];
  return url.replace(/^file:\/\//, '');
};
