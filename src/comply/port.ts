/**
 * The backend port of the standalone compliance orchestrator (`conclave comply`): how to eject
 * one user from every voice conference they are in on some remote contact-center API. Adapters:
 * GWS v2 (as a monitoring supervisor) and Genesys Cloud (the official SDK).
 */
export interface EjectionStep {
  readonly step: 'found' | 'removed' | 'skipped' | 'failed' | 'done';
  readonly outcome: 'accepted' | 'ejected' | 'two-party' | 'already-gone' | 'error' | 'completed';
  readonly interaction: string | null;
  readonly participant: string;
  readonly latencyMs?: number;
  readonly detail?: string;
}

export interface ComplianceBackend {
  readonly name: string;
  /** Removes `user` (user name, user id or DN, as the backend understands it) from every conference. */
  eject(user: string, report: (step: EjectionStep) => void): Promise<void>;
}
