#!/usr/bin/env node
/** The single entry point: `conclave serve [flags]`. */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { parseServeConfig, type ServeConfig } from './config.js';
import { DirectoryError, demoDirectory, loadDirectoryFile } from './directory/directory.js';
import { startServer } from './server.js';
import { DataFileInUse } from './store/sqlite-lock.js';
import { COMPLY_USAGE, parseComplyConfig } from './comply/config.js';
import { runComply } from './comply/run.js';
import { RulesError, type ComplianceRule } from './domain/compliance/rules.js';
import { loadRulesFile } from './rules-file.js';

const USAGE = `usage: conclave serve [--host H] [--port P] [--data FILE|:memory:|postgres://USER:PASSWORD@HOST:PORT/DATABASE] [--directory FILE] [--log-level L] [--csrf] [--compliance RULES.yaml] [--external-answer-ms MS] [--max-connections-per-address N] [--cookie-samesite strict|lax|none] [--retention 3d|12h|0] [--cors-origin ORIGIN[,ORIGIN…]] [--chat-wait-timeout 10m|0] [--shed-delay-ms 100|0] [--compliance-lanes 4]`;

const die = (reason: string, code = 2): never => {
  process.stderr.write(`conclave: ${reason}\n`);
  process.exit(code);
};

/**
 * A test hook, never for production: CONCLAVE_TEST_CRASH_AFTER_STEP=N makes the process SIGKILL
 * itself right after the compliance orchestrator commits its N-th step (counted from 1 in this
 * process), so that a test can stop it at every step boundary and restart it on the same data.
 * While it is set, each step is also written to stderr (`conclave: test hook: step N: what`); 0
 * only writes them. Read here, in the shell, so that nothing else knows of it.
 */
const crashHook = (value: string | undefined) => {
  if (value === undefined || value === '') return undefined;
  const at = Number(value);
  if (!Number.isInteger(at) || at < 0) die(`CONCLAVE_TEST_CRASH_AFTER_STEP must be a whole number, not '${value}'`);
  return (step: number, what: string) => {
    // Synchronous: the line must be out before the kill.
    writeSync(2, `conclave: test hook: step ${step}: ${what}\n`);
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
};

const serve = async (config: ServeConfig) => {
  const complianceAfterStep = crashHook(process.env['CONCLAVE_TEST_CRASH_AFTER_STEP']);
  let directory;
  try {
    directory = config.directory ? loadDirectoryFile(config.directory) : demoDirectory();
  } catch (error) {
    if (error instanceof DirectoryError) die(error.message);
    throw error;
  }
  let complianceRules: ComplianceRule[] = [];
  try {
    complianceRules = config.compliance ? loadRulesFile(config.compliance) : [];
  } catch (error) {
    if (error instanceof RulesError) die(error.message);
    throw error;
  }
  // Logs go to stderr; stdout carries the one line that says where we listen.
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  let server;
  try {
    server = await startServer({ host: config.host, port: config.port, data: config.data, directory, logger, csrf: config.csrf, complianceRules, externalAnswerMs: config.externalAnswerMs, connections: { maxConnectionsPerAddress: config.maxConnectionsPerAddress }, cookieSameSite: config.cookieSameSite, retentionMs: config.retentionMs, corsOrigins: config.corsOrigins, chatWaitTimeoutMs: config.chatWaitTimeoutMs, shedDelayMs: config.shedDelayMs, complianceLanes: config.complianceLanes, ...(complianceAfterStep ? { complianceAfterStep } : {}) });
  } catch (error) {
    if (error instanceof DataFileInUse) die(error.message, 1);
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') die(`port ${config.port} on ${config.host} is already in use`, 1);
    if (e.code === 'EADDRNOTAVAIL') die(`cannot listen on ${config.host}: address not available`, 1);
    die(`cannot start: ${e.message}`, 1);
    return;
  }
  const running = server;
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // The contract: exit 0 within 5 s, whatever a client is doing.
    setTimeout(() => process.exit(0), 4500).unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(0);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Only now say where we listen: whoever reads this line may signal us at once.
  process.stdout.write(`conclave listening on ${server.url}\n`);
  if (config.directory && directory.plainTextSecrets > 0)
    process.stderr.write(
      `conclave: warning: ${directory.plainTextSecrets} password(s) or client secret(s) in ${config.directory} are plain text; store bcrypt hashes ($2b$...) outside a demo\n`,
    );
  if (!config.directory) {
    process.stdout.write(
      `demo directory: agent15000..agent15003 (DNs 15000-15003), super15010, admin — the password is the user name\n`,
    );
  }
};

const [command, ...rest] = process.argv.slice(2);
if (command === 'comply') {
  const parsed = parseComplyConfig(rest, process.env);
  if (!parsed.ok) die(`${parsed.error}\n${COMPLY_USAGE}`);
  else process.exit(await runComply(parsed.config, (line) => process.stdout.write(`${line}\n`)));
} else if (command === 'serve') {
  const parsed = parseServeConfig(rest, process.env);
  if (!parsed.ok) die(`${parsed.error}\n${USAGE}`);
  else await serve(parsed.config);
} else if (command === undefined || command === '--help' || command === '-h') {
  process.stdout.write(`${USAGE}\n${COMPLY_USAGE}\n`);
} else {
  die(`unknown command '${command}'\n${USAGE}`);
}
