/**
 * Compliance: a flag names a user to eject from every active conference they are in; each step
 * of carrying it out is an audit entry. Flags are persisted before they are acted on, so a crash
 * mid-ejection resumes after restart. A flag ends `done` only when the user and the orchestrator
 * are both out of every conference it was to leave, and `failed` (with why) otherwise.
 */
export interface Flag {
  readonly id: string;
  readonly userId: string;
  readonly userName: string;
  readonly dn: string | null;
  readonly reason: string;
  readonly source: string;
  /** Who raised it (a user name, or `rule:<name>`). */
  readonly raisedBy: string;
  readonly createdAt: number;
  readonly status: FlagStatus;
  /** Why a flag `failed` (absent otherwise, and on flags stored before there was a failed). */
  readonly detail?: string | null;
}

export type FlagStatus = 'pending' | 'done' | 'failed';

/**
 * `recovered`: on resume, the orchestrator undid what an interrupted run left (monitoring, a chat
 * it had intruded into) or closed a step the run had started (the party had gone meanwhile).
 */
export const AUDIT_STEPS = ['flagged', 'found', 'removed', 'skipped', 'failed', 'retried', 'recovered', 'done'] as const;
export type AuditStep = (typeof AUDIT_STEPS)[number];

export const AUDIT_OUTCOMES = ['accepted', 'ejected', 'already-gone', 'two-party', 'not-in-conference', 'error', 'retrying', 'completed', 'left'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  readonly time: number;
  readonly flagId: string;
  /** The call or chat id the step is about, or null for the flag itself. */
  readonly interaction: string | null;
  readonly interactionType: 'call' | 'chat' | null;
  /** The flagged participant: DN for voice, user id for chat. */
  readonly participant: string;
  readonly userId: string;
  /** Who acted: the compliance orchestrator's user name, or who raised the flag. */
  readonly actor: string;
  readonly step: AuditStep;
  readonly outcome: AuditOutcome;
  /** Milliseconds from the flag to this step, where it applies (removals). */
  readonly latencyMs: number | null;
  readonly detail: string | null;
}

export interface AuditQuery {
  readonly userId?: string;
  readonly from?: number;
  readonly to?: number;
  readonly outcome?: string;
  readonly flagId?: string;
}
