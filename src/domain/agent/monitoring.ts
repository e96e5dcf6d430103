/**
 * Supervisor monitoring, on the supervisor's own device (POST /api/v2/me/devices/{id}):
 * ListenIn | Coach | BargeIn with targetDeviceUri, supervisorMonitoringScope (Agent|Call) and
 * supervisorMonitoringMode (NextCall|AllCalls); CancelSupervisorMonitoring.
 */
import Type, { type Static } from 'typebox';
import { hasFeature, hasRole, type Actor } from '../actor.js';
import { compileParams, operationNameOf } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';
import type { MonitorMode } from '../voice/model.js';
import type { AgentEvent } from './decide.js';
import type { AgentSession, MonitoringState } from './model.js';

export const MONITORING_OPERATIONS = ['ListenIn', 'Coach', 'BargeIn', 'CancelSupervisorMonitoring'] as const;
export const MONITORING_FEATURE = 'api-supervisor-monitoring' as const;

const StartParams = Type.Object({
  operationName: Type.String(),
  targetDeviceUri: Type.String({ minLength: 1, maxLength: 2048 }),
  supervisorMonitoringScope: Type.Optional(Type.Enum(['Agent', 'Call'])),
  supervisorMonitoringMode: Type.Optional(Type.Enum(['NextCall', 'AllCalls'])),
});
const startParams = compileParams<typeof StartParams, Static<typeof StartParams>>(StartParams);

export interface DeviceLookup {
  /** The DN of the device with this id, or undefined. */
  dnOfDevice(deviceId: string): string | undefined;
}

export interface MonitoringChange {
  readonly ok: true;
  readonly session: AgentSession;
  readonly events: readonly AgentEvent[];
  /** The monitoring that ended (Cancel), so the engine can take the supervisor off calls. */
  readonly ended: MonitoringState | null;
}

const deviceIdFromUri = (uri: string): string => uri.replace(/[?#].*$/, '').replace(/\/+$/, '').split('/').pop() ?? '';

export const decideMonitoring = (
  session: AgentSession,
  actor: Actor & { readonly dn: string },
  body: Readonly<Record<string, unknown>>,
  devices: DeviceLookup,
  now: number,
): MonitoringChange | Refusal => {
  const op = operationNameOf(body, 'a device', MONITORING_OPERATIONS);
  if (!op.ok) return op;
  const name = op.name;
  if (!hasRole(actor, 'ROLE_SUPERVISOR')) return refuse.missingRole(name, ['ROLE_SUPERVISOR']);
  if (!hasFeature(actor, MONITORING_FEATURE)) return refuse.missingFeature(name, MONITORING_FEATURE);
  const events: AgentEvent[] = [{ kind: 'agent', userId: actor.userId, channels: ['voice'] }];
  if (name === 'CancelSupervisorMonitoring') {
    if (!session.monitoring) return refuse.invalidState('you are not monitoring anyone');
    return { ok: true, session: { ...session, monitoring: null }, events, ended: session.monitoring };
  }
  const params = startParams(body);
  if (!params.ok) return params;
  const deviceId = deviceIdFromUri(params.value.targetDeviceUri);
  const targetDn = devices.dnOfDevice(deviceId);
  if (targetDn === undefined) return refuse.invalidParameter('targetDeviceUri', `'${params.value.targetDeviceUri}' is not a known device`);
  if (targetDn === actor.dn) return refuse.invalidParameter('targetDeviceUri', 'is your own device');
  if (session.monitoring) return refuse.invalidState(`you already monitor ${session.monitoring.targetDn}; CancelSupervisorMonitoring first`);
  const monitoring: MonitoringState = {
    supervisorDn: actor.dn,
    targetDn,
    targetDeviceId: deviceId,
    mode: name as MonitorMode,
    scope: params.value.supervisorMonitoringScope ?? 'Agent',
    callMode: params.value.supervisorMonitoringMode ?? 'AllCalls',
    since: now,
  };
  return { ok: true, session: { ...session, monitoring }, events, ended: null };
};
