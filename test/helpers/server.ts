/** Starts a real Conclave on a loopback port with a real SQLite file in a fresh temp folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export interface TestServer extends RunningServer {
  readonly dataFile: string;
  /** Stops the server and deletes its data folder. */
  dispose(): Promise<void>;
}

export const tempDataFile = (): { file: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-test-'));
  return { file: join(dir, 'conclave.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/**
 * A held /meta/connect is answered after `pollTimeout` (100 ms here unless a test says otherwise):
 * a listener's `caughtUp()` barrier is a /meta/connect round trip, so it costs up to two of them.
 */
export const TEST_POLL_TIMEOUT_MS = 100;

export const startTestServer = async (options: ServerOptions = {}): Promise<TestServer> => {
  const temp = tempDataFile();
  const dataFile = options.data ?? temp.file;
  // Load shedding off unless a test asks: a shared, busy test machine is not an overload to
  // shed (test/e2e/load-shedding.test.ts injects its own signal).
  const server = await startServer({ pollTimeout: TEST_POLL_TIMEOUT_MS, shedDelayMs: 0, ...options, data: dataFile });
  return {
    ...server,
    dataFile,
    dispose: async () => {
      await server.close();
      temp.remove();
    },
  };
};
