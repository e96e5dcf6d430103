/** In-memory store: the reference adapter for tests and `--data :memory:`-like runs without SQLite. */
import type { AgentSession } from '../domain/agent/model.js';
import type { Call } from '../domain/voice/model.js';
import { bumped, presentDns, VersionConflict, type CommitBatch, type Committed, type Store } from './port.js';

export const createMemoryStore = (): Store => {
  const calls = new Map<string, Call>();
  const callsByDn = new Map<string, Set<string>>();
  const sessions = new Map<string, AgentSession>();

  const index = (call: Call, add: boolean) => {
    for (const dn of presentDns(call)) {
      const ids = callsByDn.get(dn) ?? new Set<string>();
      if (add) ids.add(call.id);
      else ids.delete(call.id);
      if (ids.size === 0) callsByDn.delete(dn);
      else callsByDn.set(dn, ids);
    }
  };

  return {
    getCall: (id) => calls.get(id),
    presentCallsOf: (dn) => [...(callsByDn.get(dn) ?? [])].map((id) => calls.get(id) as Call),
    getAgentSession: (userId) => sessions.get(userId),
    commit(batch: CommitBatch): Committed {
      // Check every version before writing anything: all or nothing.
      for (const call of batch.calls ?? [])
        if ((calls.get(call.id)?.version ?? 0) !== call.version) throw new VersionConflict('call', call.id);
      for (const s of batch.agentSessions ?? [])
        if ((sessions.get(s.userId)?.version ?? 0) !== s.version) throw new VersionConflict('agent session', s.userId);
      const committedCalls = (batch.calls ?? []).map((call) => {
        const previous = calls.get(call.id);
        if (previous) index(previous, false);
        const next = bumped(call);
        calls.set(call.id, next);
        index(next, true);
        return next;
      });
      const committedSessions = (batch.agentSessions ?? []).map((s) => {
        const next = bumped(s);
        sessions.set(s.userId, next);
        return next;
      });
      return { calls: committedCalls, agentSessions: committedSessions };
    },
    ping: () => true,
    close: () => undefined,
  };
};
