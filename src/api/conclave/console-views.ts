/**
 * What the console shows, rendered from snapshots alone: the same views serve the initial
 * picture (GET /conclave/v1/console/state, read from the store) and the event stream (rendered
 * from each event's committed snapshot), so a record from the stream replaces the entity the
 * picture showed, field for field. Calls keep the shape of GET /conclave/v1/interactions and add
 * what a glance needs: the version (to drop a stale record), who monitors whom, and names.
 */
import type { Directory, DirectoryUser } from '../../directory/directory.js';
import type { AgentSession } from '../../domain/agent/model.js';
import type { Chat } from '../../domain/chat/model.js';
import type { AuditEntry, Flag } from '../../domain/compliance/model.js';
import type { Call } from '../../domain/voice/model.js';
import { entryView } from './compliance-routes.js';

const nameOf = (user: DirectoryUser | undefined) => (user ? `${user.firstName} ${user.lastName}`.trim() || user.userName : undefined);

export const callView = (call: Call, directory: Directory) => ({
  callId: call.id,
  version: call.version,
  callType: call.callType,
  ani: call.ani,
  dnis: call.dnis,
  parentCallId: call.parentCallId,
  ownerDn: call.ownerDn,
  userData: call.userData,
  parties: call.parties.map((p) => {
    const user = p.external ? undefined : directory.byDn(p.dn);
    return {
      number: p.dn,
      ...(user ? { userId: user.id, userName: user.userName, name: nameOf(user) } : {}),
      state: p.state,
      external: p.external === true,
      monitoring: p.monitor !== undefined,
      ...(p.monitor ? { monitors: { targetDn: p.monitor.targetDn, mode: p.monitor.mode } } : {}),
    };
  }),
});

export const chatView = (chat: Chat) => ({
  chatId: chat.id,
  version: chat.version,
  serviceName: chat.serviceName,
  customer: { nickname: chat.customer.nickname, connected: chat.customer.connected },
  agents: chat.agents.map((a) => ({ userId: a.userId, nickname: a.nickname, state: a.state, visibility: a.visibility })),
});

/** The agents (and supervisors) the console lists: everyone who can hold a contact-center session. */
export const isListedAgent = (user: DirectoryUser): boolean => user.roles.includes('ROLE_AGENT') || user.roles.includes('ROLE_SUPERVISOR');

export const agentView = (user: DirectoryUser, session: AgentSession | undefined) => ({
  userId: user.id,
  version: session?.version ?? 0,
  userName: user.userName,
  name: nameOf(user),
  phoneNumber: user.phoneNumber,
  // null: no contact-center session; otherwise the state on each channel logged in.
  channels: session?.channels ? Object.fromEntries(Object.entries(session.channels).map(([channel, s]) => [channel, s?.state])) : null,
  monitoring: session?.monitoring ? { targetDn: session.monitoring.targetDn, mode: session.monitoring.mode, callMode: session.monitoring.callMode } : null,
});

export const flagView = (flag: Flag) => ({
  flagId: flag.id,
  userName: flag.userName,
  phoneNumber: flag.dn,
  reason: flag.reason,
  source: flag.source,
  raisedBy: flag.raisedBy,
  createdAt: new Date(flag.createdAt).toISOString(),
  status: flag.status,
  // Why a flag failed (null otherwise).
  detail: flag.detail ?? null,
});

export const auditView = (entry: AuditEntry) => entryView(entry);

export type CallView = ReturnType<typeof callView>;
