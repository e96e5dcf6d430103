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

export interface AgentSession {
  readonly userId: string;
  readonly version: number;
  /** null when the user has no contact-center session. */
  readonly channels: Readonly<Partial<Record<ChannelName, ChannelState>>> | null;
  readonly startedAt: number | null;
}

export const noSession = (userId: string): AgentSession => ({ userId, version: 0, channels: null, startedAt: null });
