/** In-memory store: the reference adapter for tests and `--data :memory:`-like runs without SQLite. */
import type { AgentSession } from '../domain/agent/model.js';
import type { Chat } from '../domain/chat/model.js';
import type { AuditEntry, Flag } from '../domain/compliance/model.js';
import { matchesAudit } from './audit-filter.js';
import type { Call } from '../domain/voice/model.js';
import {
  activeAgentIds,
  bumped,
  chatIsWaiting,
  chatReadySince,
  presentDns,
  VersionConflict,
  type CommitBatch,
  type Committed,
  type Store,
} from './port.js';

export const createMemoryStore = (): Store => {
  const calls = new Map<string, Call>();
  const callsByDn = new Map<string, Set<string>>();
  const consultations = new Map<string, Set<string>>();
  const sessions = new Map<string, AgentSession>();
  const monitorsByDn = new Map<string, Set<string>>();
  const indexMonitor = (s: AgentSession, add: boolean) => {
    const dn = s.monitoring?.targetDn;
    if (dn === undefined) return;
    const ids = monitorsByDn.get(dn) ?? new Set<string>();
    if (add) ids.add(s.userId);
    else ids.delete(s.userId);
    if (ids.size === 0) monitorsByDn.delete(dn);
    else monitorsByDn.set(dn, ids);
  };
  const chats = new Map<string, Chat>();
  const flags = new Map<string, Flag>();
  const audit: AuditEntry[] = [];
  const chatsByAgent = new Map<string, Set<string>>();
  const waiting = new Set<string>();

  const indexChat = (chat: Chat, add: boolean) => {
    for (const userId of activeAgentIds(chat)) {
      const ids = chatsByAgent.get(userId) ?? new Set<string>();
      if (add) ids.add(chat.id);
      else ids.delete(chat.id);
      if (ids.size === 0) chatsByAgent.delete(userId);
      else chatsByAgent.set(userId, ids);
    }
    if (add && chatIsWaiting(chat)) waiting.add(chat.id);
    else waiting.delete(chat.id);
  };

  const index = (call: Call, add: boolean) => {
    if (call.parentCallId !== null) {
      const ids = consultations.get(call.parentCallId) ?? new Set<string>();
      if (add && call.endedAt === null) ids.add(call.id);
      else ids.delete(call.id);
      if (ids.size === 0) consultations.delete(call.parentCallId);
      else consultations.set(call.parentCallId, ids);
    }
    for (const dn of presentDns(call)) {
      const ids = callsByDn.get(dn) ?? new Set<string>();
      if (add) ids.add(call.id);
      else ids.delete(call.id);
      if (ids.size === 0) callsByDn.delete(dn);
      else callsByDn.set(dn, ids);
    }
  };

  /** Stores the next version of an entity, moving its index entries from the old one. */
  const put = <T extends { version: number }>(map: Map<string, T>, key: string, entity: T, reindex: (e: T, add: boolean) => void): T => {
    const previous = map.get(key);
    if (previous) reindex(previous, false);
    const next = bumped(entity);
    map.set(key, next);
    reindex(next, true);
    return next;
  };

  return {
    getCall: async (id) => calls.get(id),
    presentCallsOf: async (dn) => [...(callsByDn.get(dn) ?? [])].map((id) => calls.get(id) as Call),
    consultationsOf: async (id) => [...(consultations.get(id) ?? [])].map((c) => calls.get(c) as Call),
    liveCallIds: async () => [...new Set([...callsByDn.values()].flatMap((ids) => [...ids]))],
    getAgentSession: async (userId) => sessions.get(userId),
    monitoringSessions: async () => [...new Set([...monitorsByDn.values()].flatMap((ids) => [...ids]))].map((id) => sessions.get(id) as AgentSession),
    chatSessionUserIds: async () => [...sessions.values()].filter((s) => s.channels?.chat !== undefined).map((s) => s.userId),
    readyChatAgents: async () =>
      [...sessions.values()].flatMap((s) => {
        const since = chatReadySince(s);
        return since === null ? [] : [{ userId: s.userId, since }];
      }),
    getChat: async (id) => chats.get(id),
    chatsOfAgent: async (userId) => [...(chatsByAgent.get(userId) ?? [])].map((id) => chats.get(id) as Chat),
    waitingChats: async () => [...waiting].map((id) => chats.get(id) as Chat).sort((a, b) => a.createdAt - b.createdAt),
    async commit(batch: CommitBatch): Promise<Committed> {
      // Check every version before writing anything: all or nothing.
      for (const call of batch.calls ?? [])
        if ((calls.get(call.id)?.version ?? 0) !== call.version) throw new VersionConflict('call', call.id);
      for (const s of batch.agentSessions ?? [])
        if ((sessions.get(s.userId)?.version ?? 0) !== s.version) throw new VersionConflict('agent session', s.userId);
      for (const chat of batch.chats ?? [])
        if ((chats.get(chat.id)?.version ?? 0) !== chat.version) throw new VersionConflict('chat', chat.id);
      return {
        calls: (batch.calls ?? []).map((call) => put(calls, call.id, call, index)),
        agentSessions: (batch.agentSessions ?? []).map((s) => put(sessions, s.userId, s, indexMonitor)),
        chats: (batch.chats ?? []).map((chat) => put(chats, chat.id, chat, indexChat)),
      };
    },
    saveFlag: async (flag) => void flags.set(flag.id, flag),
    getFlag: async (id) => flags.get(id),
    pendingFlags: async () => [...flags.values()].filter((f) => f.status === 'pending').sort((a, b) => a.createdAt - b.createdAt),
    appendAudit: async (entry) => void audit.push(entry),
    queryAudit: async (query) => audit.filter((e) => matchesAudit(e, query)),
    pruneEnded: async (time) => {
      let pruned = { calls: 0, chats: 0 };
      for (const call of [...calls.values()])
        if (call.endedAt !== null && call.endedAt < time) {
          index(call, false);
          calls.delete(call.id);
          pruned = { ...pruned, calls: pruned.calls + 1 };
        }
      for (const chat of [...chats.values()])
        if (chat.endedAt !== null && chat.endedAt < time) {
          indexChat(chat, false);
          chats.delete(chat.id);
          pruned = { ...pruned, chats: pruned.chats + 1 };
        }
      return pruned;
    },
    ping: async () => true,
    close: async () => undefined,
  };
};
