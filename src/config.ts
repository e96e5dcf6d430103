/**
 * `conclave serve` configuration from flags and environment variables (a flag wins over its
 * variable). Pure: the CLI prints the error and exits; tests call it directly.
 */
import { parseArgs } from 'node:util';
import { parseCorsOrigins } from './http/cors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  /** SQLite file path, ':memory:', or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL. */
  readonly data: string;
  /** Directory file path, or null for the built-in demo directory. */
  readonly directory: string | null;
  readonly logLevel: LogLevel;
  /** GWS-style CSRF protection on writes (off by default, as in GWS). */
  readonly csrf: boolean;
  /** Compliance rules file (YAML or JSON), or null for none. */
  readonly compliance: string | null;
  /** How long an external number rings before answering, in ms: 0 at once, -1 never. */
  readonly externalAnswerMs: number;
  /** The most sockets one client address may hold open at once. */
  readonly maxConnectionsPerAddress: number;
  /** The session cookie's SameSite attribute. */
  readonly cookieSameSite: 'Strict' | 'Lax' | 'None';
  /** How long ended calls and chats are kept, in ms (0 = forever). */
  readonly retentionMs: number;
  /** Browser origins allowed to call the GWS API and CometD (CORS, with credentials); none by default. */
  readonly corsOrigins: readonly string[];
  /** How long a chat may wait for an agent before it ends, in ms (0 = for ever). */
  readonly chatWaitTimeoutMs: number;
  /** Load shedding: how long (ms) the event loop may have been busy without a pause before a new request is answered 503; 0 turns it off. */
  readonly shedDelayMs: number;
  /** Compliance orchestrator lanes: flags on different users carried out concurrently, one per lane (1–16). */
  readonly complianceLanes: number;
}

export const DEFAULTS: ServeConfig = {
  host: '127.0.0.1',
  port: 8080,
  data: './.conclave/conclave.db',
  directory: null,
  logLevel: 'info',
  csrf: false,
  compliance: null,
  externalAnswerMs: 1000,
  maxConnectionsPerAddress: 8192,
  cookieSameSite: 'Strict',
  retentionMs: 3 * 24 * 60 * 60 * 1000,
  corsOrigins: [],
  chatWaitTimeoutMs: 10 * 60 * 1000,
  shedDelayMs: 100,
  complianceLanes: 4,
};

const DURATION_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

export type ConfigResult = { ok: true; config: ServeConfig } | { ok: false; error: string };

export const parseServeConfig = (argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult => {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        directory: { type: 'string' },
        'log-level': { type: 'string' },
        csrf: { type: 'boolean' },
        compliance: { type: 'string' },
        'external-answer-ms': { type: 'string' },
        'max-connections-per-address': { type: 'string' },
        'cookie-samesite': { type: 'string' },
        retention: { type: 'string' },
        'cors-origin': { type: 'string' },
        'chat-wait-timeout': { type: 'string' },
        'shed-delay-ms': { type: 'string' },
        'compliance-lanes': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const pick = (flag: string, variable: string): string | undefined => {
    const value = (values[flag] as string | undefined) ?? env[variable];
    return value === '' ? undefined : value;
  };

  const portText = pick('port', 'PORT') ?? String(DEFAULTS.port);
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return { ok: false, error: `--port must be an integer from 0 to 65535, not '${portText}'` };

  const logLevel = pick('log-level', 'LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    return { ok: false, error: `--log-level must be one of ${LOG_LEVELS.join(', ')}, not '${logLevel}'` };

  const answerText = pick('external-answer-ms', 'CONCLAVE_EXTERNAL_ANSWER_MS') ?? String(DEFAULTS.externalAnswerMs);
  const externalAnswerMs = /^(-1|\d+)$/.test(answerText) ? Number(answerText) : NaN;
  if (!Number.isSafeInteger(externalAnswerMs) || externalAnswerMs > 2_147_483_647)
    return { ok: false, error: `--external-answer-ms must be -1 (never) or a whole number of milliseconds, not '${answerText}'` };

  const maxText = pick('max-connections-per-address', 'CONCLAVE_MAX_CONNECTIONS_PER_ADDRESS') ?? String(DEFAULTS.maxConnectionsPerAddress);
  const maxConnectionsPerAddress = /^\d+$/.test(maxText) ? Number(maxText) : NaN;
  if (!Number.isSafeInteger(maxConnectionsPerAddress) || maxConnectionsPerAddress < 1)
    return { ok: false, error: `--max-connections-per-address must be a whole number of at least 1, not '${maxText}'` };

  const sameSiteText = (pick('cookie-samesite', 'CONCLAVE_COOKIE_SAMESITE') ?? DEFAULTS.cookieSameSite).toLowerCase();
  const cookieSameSite = ({ strict: 'Strict', lax: 'Lax', none: 'None' } as const)[sameSiteText as 'strict'];
  if (cookieSameSite === undefined) return { ok: false, error: `--cookie-samesite must be strict, lax or none, not '${sameSiteText}'` };

  const retentionText = pick('retention', 'CONCLAVE_RETENTION') ?? '3d';
  const retention = /^(\d+)([dhms]?)$/.exec(retentionText);
  const retentionMs = retention ? Number(retention[1]) * (DURATION_UNITS[retention[2] || 'd'] as number) : NaN;
  if (!Number.isSafeInteger(retentionMs))
    return { ok: false, error: `--retention must be 0 (keep everything) or a whole number of days, or of d/h/m/s (3d, 12h), not '${retentionText}'` };
  const cors = parseCorsOrigins(pick('cors-origin', 'CONCLAVE_CORS_ORIGIN'));
  if (!cors.ok) return cors;

  const waitText = pick('chat-wait-timeout', 'CONCLAVE_CHAT_WAIT_TIMEOUT') ?? '10m';
  const wait = /^(\d+)([dhms])$|^0$/.exec(waitText);
  const chatWaitTimeoutMs = wait ? (wait[1] === undefined ? 0 : Number(wait[1]) * (DURATION_UNITS[wait[2] as string] as number)) : NaN;
  if (!Number.isSafeInteger(chatWaitTimeoutMs) || chatWaitTimeoutMs > 2_147_483_647)
    return { ok: false, error: `--chat-wait-timeout must be 0 (wait for ever) or a duration such as 10m, 30s or 1h, not '${waitText}'` };

  const shedText = pick('shed-delay-ms', 'CONCLAVE_SHED_DELAY_MS') ?? String(DEFAULTS.shedDelayMs);
  const shedDelayMs = /^\d+$/.test(shedText) ? Number(shedText) : NaN;
  if (!Number.isSafeInteger(shedDelayMs) || shedDelayMs > 60_000)
    return { ok: false, error: `--shed-delay-ms must be 0 (no load shedding) or a whole number of milliseconds up to 60000, not '${shedText}'` };

  const lanesText = pick('compliance-lanes', 'CONCLAVE_COMPLIANCE_LANES') ?? String(DEFAULTS.complianceLanes);
  const complianceLanes = /^\d+$/.test(lanesText) ? Number(lanesText) : NaN;
  if (!(complianceLanes >= 1 && complianceLanes <= 16))
    return { ok: false, error: `--compliance-lanes must be a whole number from 1 to 16, not '${lanesText}'` };

  return {
    ok: true,
    config: {
      shedDelayMs,
      complianceLanes,
      corsOrigins: cors.origins,
      host: pick('host', 'CONCLAVE_HOST') ?? DEFAULTS.host,
      port,
      data: pick('data', 'CONCLAVE_DATA') ?? DEFAULTS.data,
      directory: pick('directory', 'CONCLAVE_DIRECTORY') ?? null,
      logLevel: logLevel as LogLevel,
      compliance: pick('compliance', 'CONCLAVE_COMPLIANCE') ?? null,
      externalAnswerMs,
      maxConnectionsPerAddress,
      cookieSameSite,
      retentionMs,
      chatWaitTimeoutMs,
      csrf: values['csrf'] === true || ['1', 'true', 'yes'].includes((env['CONCLAVE_CSRF'] ?? '').toLowerCase()),
    },
  };
};
