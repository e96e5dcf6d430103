/**
 * GWS v2 backend: the orchestrator logs in as a supervisor, monitors the flagged user's device
 * (ListenIn, AllCalls), removes them from every monitored call that is a conference, and stops
 * monitoring — exactly the rights the seed gives "a supervisor during monitoring".
 */
import { createGwsClient, GwsError, type GwsClient } from '../client/gws-client.js';
import type { ComplianceBackend, EjectionStep } from './port.js';

export interface GwsBackendOptions {
  readonly url: string;
  readonly userName: string;
  readonly password: string;
}

export const createGwsBackend = (options: GwsBackendOptions, client: GwsClient = createGwsClient(options.url, options.userName, options.password)): ComplianceBackend => ({
  name: 'gws',
  async eject(user, report) {
    const started = Date.now();
    const target = await client.findUser(user);
    const [device] = await client.userDevices(target.id);
    if (!device) {
      report({ step: 'done', outcome: 'completed', interaction: null, participant: user, detail: `${user} has no device` });
      return;
    }
    const [own] = await client.myDevices();
    if (!own) throw new Error(`${options.userName} has no device to monitor from`);
    const dn = device.phoneNumber;
    await client.deviceOperation(own.id, 'ListenIn', { targetDeviceUri: device.uri, supervisorMonitoringScope: 'Agent', supervisorMonitoringMode: 'AllCalls' });
    try {
      const monitored = (await client.myCalls()).filter((c) => c.monitoring && c.participants.some((p) => p.phoneNumber === dn));
      for (const call of monitored) {
        const where = { interaction: call.id, participant: dn };
        if (call.participants.length < 3) {
          report({ step: 'skipped', outcome: 'two-party', ...where });
          continue;
        }
        report({ step: 'found', outcome: 'accepted', ...where });
        try {
          await client.callOperation(call.id, 'RemoveParticipantFromConference', { participant: dn });
          report({ step: 'removed', outcome: 'ejected', ...where, latencyMs: Date.now() - started });
        } catch (error) {
          const gone = error instanceof GwsError && error.statusCode === 2 && /not a (live )?party/.test(error.statusMessage);
          report({ step: gone ? 'done' : 'failed', outcome: gone ? 'already-gone' : 'error', ...where, detail: (error as Error).message });
        }
      }
    } finally {
      await client.deviceOperation(own.id, 'CancelSupervisorMonitoring').catch(() => undefined);
    }
    report({ step: 'done', outcome: 'completed', interaction: null, participant: dn });
  },
});

export type { EjectionStep };
