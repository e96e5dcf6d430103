/**
 * One process per SQLite file. Two processes on one file would each keep their own keyed queue,
 * CometD sessions and compliance orchestrator, and every one of those assumes it is alone; the
 * PostgreSQL store is the way to run several nodes. The lock is an SQLite EXCLUSIVE lock held by
 * an open transaction on a companion file (`FILE.lock`): it is an OS file lock, so it dies with the
 * process however the process dies (SIGKILL included), and nothing stale is left to clean up — a
 * PID file would be. It is taken on a companion file, not on the data file itself, so that other
 * connections in this process (and read-only tools) still use the data file normally.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export class DataFileInUse extends Error {
  readonly code = 'CONCLAVE_DATA_IN_USE';
  constructor(readonly path: string) {
    super(
      `the SQLite file ${path} is in use by another conclave process; one process per SQLite file — to run several nodes, use the PostgreSQL cluster (--data postgres://…)`,
    );
  }
}

export interface DataFileLock {
  release(): void;
}

const NO_LOCK: DataFileLock = { release: () => {} };

/** Takes the file's lock, or throws DataFileInUse at once (no waiting: the holder may run for days). */
export const lockDataFile = (path: string): DataFileLock => {
  if (path === ':memory:' || /^postgres(ql)?:\/\//i.test(path)) return NO_LOCK;
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(`${path}.lock`, { timeout: 0 });
  try {
    db.exec('CREATE TABLE IF NOT EXISTS held (pid INTEGER)');
    // Never committed: the EXCLUSIVE lock lasts as long as this connection, i.e. this process.
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (String((error as { code?: string }).code).startsWith('SQLITE_BUSY') || String((error as { code?: string }).code).startsWith('SQLITE_LOCKED'))
      throw new DataFileInUse(path);
    throw error;
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
};
