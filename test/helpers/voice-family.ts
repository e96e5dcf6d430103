/** A map of calls seen as the engine loads them for a decision (engine/handlers/voice.ts familyOf). */
import type { Call } from '../../src/domain/voice/model.js';

/** Calls not ended whose parent is this call, as the store's consultationsOf. */
export const consultationsIn = (calls: ReadonlyMap<string, Call>, callId: string): Call[] =>
  [...calls.values()].filter((c) => c.endedAt === null && c.parentCallId === callId);

/** The call's consultation family: its parent, and the consultations of it and of its parent. */
export const familyIn = (calls: ReadonlyMap<string, Call>, call: Call): Call[] => {
  const parent = call.parentCallId !== null ? calls.get(call.parentCallId) : undefined;
  const family = new Map<string, Call>();
  if (parent) family.set(parent.id, parent);
  for (const root of parent ? [call, parent] : [call]) for (const c of consultationsIn(calls, root.id)) family.set(c.id, c);
  family.delete(call.id);
  return [...family.values()];
};
