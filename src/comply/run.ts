/**
 * `conclave comply`: ejects one user from every voice conference on a remote GWS v2 or Genesys
 * Cloud–compatible server, printing each step as a JSON line. Exit 0 when nothing failed.
 */
import type { ComplyConfig } from './config.js';
import type { ComplianceBackend, EjectionStep } from './port.js';

/** The adapter for the configured backend; each is loaded only when used (the Cloud SDK is large). */
export const backendFor = async (config: ComplyConfig): Promise<ComplianceBackend> =>
  config.backend === 'gws'
    ? (await import('./gws-backend.js')).createGwsBackend({ url: config.url, userName: config.userName, password: config.password })
    : (await import('./cloud-backend.js')).createCloudBackend({
        url: config.url,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        pathPrefix: config.pathPrefix,
      });

export const runComply = async (config: ComplyConfig, write: (line: string) => void): Promise<number> => {
  const steps: EjectionStep[] = [];
  const report = (step: EjectionStep) => {
    steps.push(step);
    write(JSON.stringify({ time: new Date().toISOString(), backend: config.backend, ...step }));
  };
  try {
    await (await backendFor(config)).eject(config.user, report);
  } catch (error) {
    report({ step: 'failed', outcome: 'error', interaction: null, participant: config.user, detail: describe(error) });
  }
  return steps.some((s) => s.step === 'failed') ? 1 : 0;
};

const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  const body = error as { status?: number; message?: string };
  return body.message !== undefined ? `${body.status ?? ''} ${body.message}`.trim() : String(error);
};
