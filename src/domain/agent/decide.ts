/**
 * Contact-center session and agent-state operations:
 *  POST /api/v2/me            StartContactCenterSession | EndContactCenterSession
 *  POST /api/v2/me/channels/X Ready | NotReady
 */
import type { Actor } from '../actor.js';
import { refuse, type Refusal } from '../refusals.js';
import { CHANNEL_OPERATIONS, SESSION_OPERATIONS, type ParsedChannelOperation, type ParsedSessionOperation } from './commands.js';
import { CHANNELS, type AgentSession, type AgentState, type ChannelName } from './model.js';

export { CHANNEL_OPERATIONS, SESSION_OPERATIONS };

export interface AgentEvent {
  readonly kind: 'agent';
  readonly userId: string;
  readonly channels: readonly ChannelName[];
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
  const state = name as AgentState;
  if (current.state === state) return { ok: true, session, events: [] };
  return {
    ok: true,
    session: { ...session, channels: { ...session.channels, [channel]: { state, since: now } } },
    events: [{ kind: 'agent', userId: actor.userId, channels: [channel as ChannelName] }],
  };
};
