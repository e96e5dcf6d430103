/**
 * Contact-center session and agent-state operations:
 *  POST /api/v2/me            StartContactCenterSession | EndContactCenterSession
 *  POST /api/v2/me/channels/X Ready | NotReady (voice also AfterCallWork | AuxWork)
 *  POST /api/v2/me/devices/X  DoNotDisturbOn | DoNotDisturbOff | ForwardCallsOn | ForwardCallsOff
 */
import type { Actor } from '../actor.js';
import { refuse, type Refusal } from '../refusals.js';
import { isExternalShaped } from '../voice/model.js';
import {
  CHANNEL_OPERATIONS,
  SESSION_OPERATIONS,
  type DEVICE_SETTING_SCHEMAS,
  type ParsedChannelOperation,
  type ParsedSessionOperation,
} from './commands.js';
import type { OperationOf } from '../commands/parse.js';
import { CHANNELS, type AgentSession, type AgentState, type ChannelName, type ChannelState, type DeviceSettings } from './model.js';

export { CHANNEL_OPERATIONS, SESSION_OPERATIONS };

export interface AgentEvent {
  readonly kind: 'agent';
  readonly userId: string;
  readonly channels: readonly ChannelName[];
  /** Only the device changed (DND, forwarding): the device message, not the channels one. */
  readonly deviceOnly?: true;
}

export interface AgentChange {
  readonly ok: true;
  readonly session: AgentSession;
  readonly events: readonly AgentEvent[];
  /** StartContactCenterSession: the channels asked for that Conclave does not serve, each with why. */
  readonly unserved?: readonly ChannelResult[];
}

/** One channel's outcome in a partially successful StartContactCenterSession. */
export interface ChannelResult {
  readonly channel: string;
  readonly statusCode: number;
  readonly statusMessage?: string;
}

/**
 * StartContactCenterSession page: when some channels fail, GWS answers "a partial-success
 * statusCode of 7"; the channels that succeeded return statusCode 0, the failed ones a
 * statusCode and statusMessage. It is a success (the session starts), not a refusal.
 */
export const PARTIAL_SUCCESS = 7;

export const isAgent = (actor: Actor): boolean => actor.roles.includes('ROLE_AGENT') || actor.roles.includes('ROLE_SUPERVISOR');

export const decideSession = (
  session: AgentSession,
  actor: Actor,
  op: ParsedSessionOperation,
  now: number,
): AgentChange | Refusal => {
  if (op.name === undefined) return op.invalid;
  const name = op.name;
  if (!isAgent(actor)) return refuse.missingRole(name, ['ROLE_AGENT', 'ROLE_SUPERVISOR']);
  if (name === 'EndContactCenterSession') {
    if (session.channels === null) return refuse.invalidState('you have no contact-center session to end');
    return {
      ok: true,
      session: { ...session, channels: null, startedAt: null },
      events: [{ kind: 'agent', userId: actor.userId, channels: Object.keys(session.channels) as ChannelName[] }],
    };
  }
  if (op.invalid) return op.invalid;
  const asked = op.params.channels ?? [...CHANNELS];
  const wanted = asked.filter((c): c is ChannelName => (CHANNELS as readonly string[]).includes(c));
  const unserved = asked
    .filter((c) => !(CHANNELS as readonly string[]).includes(c))
    .map((channel) => refuse.invalidParameter('channels', `includes '${channel}', a channel Conclave does not serve (it serves ${CHANNELS.join(', ')})`));
  // "If all channels fail, WS returns the statusCode/statusMessage for only one channel."
  if (wanted.length === 0) return unserved[0] as Refusal;
  if (wanted.includes('voice') && actor.dn === null)
    return refuse.invalidParameter('channels', `includes voice but your user has no device (phone number)`);
  if (session.channels !== null) return refuse.invalidState('you already have a contact-center session; end it first');
  const channels = Object.fromEntries(wanted.map((c) => [c, { state: 'NotReady' as AgentState, since: now }]));
  return {
    ok: true,
    session: { ...session, channels, startedAt: now },
    events: [{ kind: 'agent', userId: actor.userId, channels: wanted }],
    ...(unserved.length > 0
      ? { unserved: asked.filter((c) => !wanted.includes(c as ChannelName)).map((channel, i) => ({ channel, statusCode: (unserved[i] as Refusal).statusCode, statusMessage: (unserved[i] as Refusal).message })) }
      : {}),
  };
};

export const decideChannel = (
  session: AgentSession,
  actor: Actor,
  channel: string,
  op: ParsedChannelOperation,
  now: number,
): AgentChange | Refusal => {
  if (!(CHANNELS as readonly string[]).includes(channel)) return refuse.notFound('channel', channel);
  if (op.name === undefined) return op.invalid;
  const name = op.name;
  const feature = channel === 'voice' ? 'api-voice' : 'api-multimedia';
  if (!actor.features.includes(feature)) return refuse.missingFeature(name, feature);
  if (op.invalid) return op.invalid;
  const current = session.channels?.[channel as ChannelName];
  if (!current) return refuse.invalidState(`you are not logged in on the ${channel} channel; StartContactCenterSession with it first`);
  const next = channelStateOf(op as ParsedChannelOperation & { invalid?: undefined }, now);
  if (sameState(current, next)) return { ok: true, session, events: [] };
  return {
    ok: true,
    session: { ...session, channels: { ...session.channels, [channel]: next } },
    events: [{ kind: 'agent', userId: actor.userId, channels: [channel as ChannelName] }],
  };
};

/** The state an accepted channel operation enters (the voice work cycle's pages, one per operation). */
const channelStateOf = (op: ParsedChannelOperation & { invalid?: undefined }, now: number): ChannelState => {
  const p = op.params as { workmode?: 'ManualIn' | 'AutoIn'; reasonCode?: string; agentWorkMode?: 'AfterCallWork' | 'AuxWork'; wrapUpTime?: string };
  switch (op.name) {
    case 'Ready':
      return { state: 'Ready', since: now, ...(p.workmode ? { workMode: p.workmode } : {}) };
    case 'NotReady':
      return { state: 'NotReady', since: now, ...(p.agentWorkMode ? { workMode: p.agentWorkMode } : {}), ...(p.reasonCode ? { reasonCode: p.reasonCode } : {}) };
    case 'AfterCallWork': {
      // wrapUpTime (seconds) bounds the wrap-up; 0 or absent leaves it to the agent to end.
      const seconds = Number(p.wrapUpTime ?? '0');
      return { state: 'NotReady', since: now, workMode: 'AfterCallWork', ...(seconds > 0 ? { wrapUpUntil: now + seconds * 1000 } : {}) };
    }
    case 'AuxWork':
      return { state: 'NotReady', since: now, workMode: 'AuxWork' };
  }
};

/** Repeating the state one is in (same mode, same reason, no new wrap-up bound) changes nothing. */
const sameState = (a: ChannelState, b: ChannelState): boolean =>
  a.state === b.state && a.workMode === b.workMode && a.reasonCode === b.reasonCode && b.wrapUpUntil === undefined && a.wrapUpUntil === undefined;

export const NO_DEVICE_SETTINGS: DeviceSettings = { doNotDisturb: false, forwardTo: null };

export interface DeviceSettingsLookup {
  isKnownDn(dn: string): boolean;
  isQueue?(ref: string): boolean;
}

/**
 * DoNotDisturbOn/Off and ForwardCallsOn/Off on one's own device. Each applies only where it
 * changes something (the capabilities of the pages' samples: DoNotDisturbOff only while on,
 * ForwardCallsOff only while forwarding), so the device's capabilities list exactly these.
 */
export const decideDeviceSetting = (
  session: AgentSession,
  actor: Actor & { readonly dn: string },
  parsed: OperationOf<typeof DEVICE_SETTING_SCHEMAS> | { readonly name: keyof typeof DEVICE_SETTING_SCHEMAS; readonly invalid: Refusal },
  directory: DeviceSettingsLookup,
): AgentChange | Refusal => {
  if (!actor.features.includes('api-voice')) return refuse.missingFeature(parsed.name, 'api-voice');
  if (parsed.invalid) return parsed.invalid;
  const op = parsed;
  const current = session.device ?? NO_DEVICE_SETTINGS;
  const why = deviceSettingUnavailable(current, op.name);
  if (why) return refuse.invalidState(why);
  let device: DeviceSettings;
  switch (op.name) {
    case 'DoNotDisturbOn':
    case 'DoNotDisturbOff':
      device = { ...current, doNotDisturb: op.name === 'DoNotDisturbOn' };
      break;
    case 'ForwardCallsOff':
      device = { ...current, forwardTo: null };
      break;
    case 'ForwardCallsOn': {
      const to = op.params.destination;
      if (to === actor.dn) return refuse.invalidParameter('destination', `is your own number (${to})`);
      if (directory.isQueue?.(to)) return refuse.invalidParameter('destination', `'${to}' is a queue; forwarding goes to a phone number`);
      if (!directory.isKnownDn(to) && !isExternalShaped(to)) return refuse.invalidParameter('destination', `'${to}' is not a known phone number nor an external number`);
      device = { ...current, forwardTo: to };
      break;
    }
  }
  return { ok: true, session: { ...session, device }, events: [{ kind: 'agent', userId: actor.userId, channels: ['voice'], deviceOnly: true }] };
};

/** Why a device setting does not apply now, or null: the one rule for acceptance and capabilities. */
export const deviceSettingUnavailable = (device: DeviceSettings, name: keyof typeof DEVICE_SETTING_SCHEMAS): string | null => {
  switch (name) {
    case 'DoNotDisturbOn':
      return device.doNotDisturb ? 'do-not-disturb is already on' : null;
    case 'DoNotDisturbOff':
      return device.doNotDisturb ? null : 'do-not-disturb is not on';
    case 'ForwardCallsOn':
      return device.forwardTo !== null ? `calls are already forwarded to ${device.forwardTo}; ForwardCallsOff first` : null;
    case 'ForwardCallsOff':
      return device.forwardTo !== null ? null : 'calls are not forwarded';
  }
};
