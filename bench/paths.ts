/**
 * Where things are, found relative to this compiled file so that the bench runs the same from
 * `dist/bench` (npm run bench) and from any other outDir (e.g. `dist-bench/bench`): the server
 * it starts is always the one compiled next to it, never another build.
 */
import { fileURLToPath } from 'node:url';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** The repository root (OUTDIR/bench/ → ../../). */
export const REPO_ROOT = here('../../');
/** The Conclave CLI compiled alongside this bench. */
export const CLI = here('../src/cli.js');
/** The bench's own baseline servers and CometD worker (compiled JS). */
export const BASELINE_SERVER = here('./baselines/server.js');
export const COMETD_WORKER = here('./cometd/worker.js');
export const OVERLOAD_PROBE = here('./scenarios/overload-probe.js');
/** Preloaded into every server process the bench starts: event-loop delay and heap over IPC. */
export const PROBE = here('./lib/probe.js');
/** Committed outputs live in the source tree, not in the build. */
export const RESULTS_DIR = here('../../bench/results/');
export const PERFORMANCE_DOC = here('../../docs/performance.md');
export const PLOT_SVG = here('../../docs/performance-latency.svg');
/** The seed's ParticipantsUpdated notification: the payload the bare CometD baseline delivers. */
export const SEED_FIXTURE = here('../../test/fixtures/seed-voice-remove-participant.json');
