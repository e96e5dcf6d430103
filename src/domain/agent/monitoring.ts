/**
 * Supervisor monitoring, on the supervisor's own device (POST /api/v2/me/devices/{id}):
 * ListenIn | Coach | BargeIn with targetDeviceUri, supervisorMonitoringScope (Agent|Call) and
 * supervisorMonitoringMode (NextCall|AllCalls); CancelSupervisorMonitoring.
 */
import { hasFeature, hasRole, type Actor } from '../actor.js';
import { refuse, type Refusal } from '../refusals.js';
import type { Call, MonitorMode } from '../voice/model.js';
import { MONITORING_OPERATIONS, type ParsedMonitoringOperation } from './commands.js';
import type { AgentEvent } from './decide.js';
import type { AgentSession, MonitoringState } from './model.js';

export { MONITORING_OPERATIONS };
export const MONITORING_FEATURE = 'api-supervisor-monitoring' as const;

export interface DeviceLookup {
  /** The DN of the device with this id, or undefined. */
  dnOfDevice(deviceId: string): string | undefined;
  /** The device id in a device URI (the dialect's URLs). */
  deviceIdOf(uri: string): string;
  /** The device of a DN, or undefined (a target named by phoneNumber). */
  deviceOfDn(dn: string): string | undefined;
}

export interface MonitoringChange {
  readonly ok: true;
  readonly session: AgentSession;
  readonly events: readonly AgentEvent[];
  /** The monitoring that ended (Cancel), so the engine can take the supervisor off calls. */
  readonly ended: MonitoringState | null;
}

export const decideMonitoring = (
  session: AgentSession,
  actor: Actor & { readonly dn: string },
  op: ParsedMonitoringOperation,
  devices: DeviceLookup,
  now: number,
): MonitoringChange | Refusal => {
  if (op.name === undefined) return op.invalid;
  const name = op.name;
  if (!hasRole(actor, 'ROLE_SUPERVISOR')) return refuse.missingRole(name, ['ROLE_SUPERVISOR']);
  if (!hasFeature(actor, MONITORING_FEATURE)) return refuse.missingFeature(name, MONITORING_FEATURE);
  const events: AgentEvent[] = [{ kind: 'agent', userId: actor.userId, channels: ['voice'] }];
  if (name === 'CancelSupervisorMonitoring') {
    if (!session.monitoring) return refuse.invalidState('you are not monitoring anyone');
    return { ok: true, session: { ...session, monitoring: null }, events, ended: session.monitoring };
  }
  if (op.invalid) return op.invalid;
  const params = { value: op.params };
  const { targetDeviceUri, phoneNumber } = params.value;
  if (targetDeviceUri === undefined && phoneNumber === undefined) return refuse.missingParameter('targetDeviceUri');
  const byNumber = targetDeviceUri === undefined ? devices.deviceOfDn(phoneNumber as string) : undefined;
  const deviceId = targetDeviceUri !== undefined ? devices.deviceIdOf(targetDeviceUri) : byNumber;
  const targetDn = deviceId === undefined ? undefined : devices.dnOfDevice(deviceId);
  const named = targetDeviceUri !== undefined ? 'targetDeviceUri' : 'phoneNumber';
  if (targetDn === undefined || deviceId === undefined)
    return refuse.invalidParameter(named, `'${targetDeviceUri ?? phoneNumber}' is not a known ${targetDeviceUri !== undefined ? 'device' : "agent's phone number"}`);
  if (targetDeviceUri !== undefined && phoneNumber !== undefined && phoneNumber !== targetDn)
    return refuse.invalidParameter('phoneNumber', `'${phoneNumber}' is not the phone number of the device in targetDeviceUri (${targetDn})`);
  if (targetDn === actor.dn) return refuse.invalidParameter(named, 'is your own device');
  if (session.monitoring) return refuse.invalidState(`you already monitor ${session.monitoring.targetDn}; CancelSupervisorMonitoring first`);
  const monitoring: MonitoringState = {
    supervisorDn: actor.dn,
    targetDn,
    targetDeviceId: deviceId,
    mode: name as MonitorMode,
    // The pages' defaults: scope Call, mode AllCalls.
    scope: params.value.supervisorMonitoringScope ?? 'Call',
    callMode: params.value.supervisorMonitoringMode ?? 'AllCalls',
    since: now,
  };
  return { ok: true, session: { ...session, monitoring }, events, ended: null };
};

/**
 * NextCall monitoring is consumed by the first call it joins (no further call is joined) and
 * ends when the supervisor leaves that call. Given the calls a change touched (before and after)
 * and the monitoring sessions in force, returns the sessions to commit with that change.
 */
export const nextCallFollowUps = (
  before: ReadonlyMap<string, Call>,
  after: readonly Call[],
  monitoring: readonly AgentSession[],
): { sessions: AgentSession[]; ended: string[] } => {
  const sessions = new Map<string, AgentSession>();
  const ended: string[] = [];
  for (const call of after)
    for (const party of call.parties) {
      if (!party.monitor) continue;
      const was = before.get(call.id)?.parties.find((p) => p.dn === party.dn);
      const joined = party.state !== 'Released' && (!was || was.state === 'Released');
      const left = party.state === 'Released' && was !== undefined && was.state !== 'Released';
      if (!joined && !left) continue;
      const original = monitoring.find((s) => s.monitoring?.supervisorDn === party.dn);
      const session = original && (sessions.get(original.userId) ?? original);
      const m = session?.monitoring;
      if (!session || !m || m.callMode !== 'NextCall' || m.targetDn !== party.monitor.targetDn) continue;
      if (joined && m.consumed) continue;
      sessions.set(session.userId, { ...session, monitoring: left ? null : { ...m, consumed: true } });
      if (left) ended.push(session.userId);
    }
  return { sessions: [...sessions.values()], ended };
};
