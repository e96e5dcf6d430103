import type { MonitorMode } from '../voice/model.js';

/**
 * An agent's contact-center session: which media channels they are logged in on and their state
 * on each. A session is what makes an agent routable (chat) and carries Ready/NotReady.
 */
export const CHANNELS = ['voice', 'chat'] as const;
export type ChannelName = (typeof CHANNELS)[number];
export type AgentState = 'Ready' | 'NotReady';

export interface ChannelState {
  readonly state: AgentState;
  /** When the state was entered: routing picks the agent Ready the longest. */
  readonly since: number;
}

/** A supervisor's monitoring of an agent's device (ListenIn / Coach / BargeIn). */
export interface MonitoringState {
  readonly supervisorDn: string;
  readonly targetDn: string;
  readonly targetDeviceId: string;
  readonly mode: MonitorMode;
  readonly scope: 'Agent' | 'Call';
  /** AllCalls: every call of the agent's, in progress and later; NextCall: until one monitored call ends. */
  readonly callMode: 'NextCall' | 'AllCalls';
  readonly since: number;
  /** NextCall only: the next call has been joined, so no further call is. */
  readonly consumed?: boolean;
}

export interface AgentSession {
  readonly userId: string;
  readonly version: number;
  /** null when the user has no contact-center session. */
  readonly channels: Readonly<Partial<Record<ChannelName, ChannelState>>> | null;
  readonly startedAt: number | null;
  /** What this supervisor monitors, if anything; independent of the contact-center session. */
  readonly monitoring?: MonitoringState | null;
}

export const noSession = (userId: string): AgentSession => ({ userId, version: 0, channels: null, startedAt: null, monitoring: null });
