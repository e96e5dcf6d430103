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

export const startTestServer = async (options: ServerOptions = {}): Promise<TestServer> => {
  const temp = tempDataFile();
  const dataFile = options.data ?? temp.file;
  const server = await startServer({ pollTimeout: 5_000, ...options, data: dataFile });
  return {
    ...server,
    dataFile,
    dispose: async () => {
      await server.close();
      temp.remove();
    },
  };
};
