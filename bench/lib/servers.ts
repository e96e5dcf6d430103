/** Starting the servers under test: Conclave as users run it, and the bare baselines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASELINE_SERVER, CLI } from '../paths.js';
import { spawnServer, type ServerProcess } from './server-process.js';

export interface Conclave extends ServerProcess {
  /** Stops the server and deletes its SQLite data folder. */
  dispose(): Promise<void>;
}

/**
 * `node cli.js serve --port 0 --data <tmp>/conclave.db --directory FILE --log-level warn`: a real
 * SQLite file (WAL) in a fresh temp folder, so every scenario starts from an empty store.
 * Load shedding is off (`--shed-delay-ms 0`) unless `extraArgs` turns it on: the closed-loop
 * scenarios run the server at capacity on purpose, to measure it, and shedding would refuse the
 * load they measure (the overload scenario turns it on; a later flag wins).
 */
export const startConclave = async (directoryFile: string, nodeArgs: readonly string[] = [], extraArgs: readonly string[] = []): Promise<Conclave> => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-'));
  try {
    const server = await spawnServer({
      script: CLI,
      args: ['serve', '--port', '0', '--data', join(dir, 'conclave.db'), '--directory', directoryFile, '--log-level', 'warn', '--shed-delay-ms', '0', ...extraArgs],
      // CONCLAVE_BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): profile any scenario's server.
      nodeArgs: [...nodeArgs, ...(process.env['CONCLAVE_BENCH_SERVER_NODE_ARGS']?.split(/\s+/).filter(Boolean) ?? [])],
      ready: /conclave listening on (\S+)/,
    });
    return {
      ...server,
      dispose: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
};

export type BaselineKind = 'node' | 'fastify' | 'cometd';

export const startBaseline = (kind: BaselineKind): Promise<ServerProcess> =>
  spawnServer({ script: BASELINE_SERVER, args: [kind], ready: /baseline listening on (\S+)/ });
