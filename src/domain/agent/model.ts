import type { MonitorMode } from '../voice/model.js';

/**
 * An agent's contact-center session: which media channels they are logged in on and their state
 * on each. A session is what makes an agent routable (chat) and carries Ready/NotReady.
 */
export const CHANNELS = ['voice', 'chat'] as const;
export type ChannelName = (typeof CHANNELS)[number];
export type AgentState = 'Ready' | 'NotReady';
/**
 * The work mode GWS shows next to the state: Ready's `workmode` (ManualIn, AutoIn), and the
 * NotReady variants AfterCallWork and AuxWork (AgentStateAfterCallWork / AgentStateAuxWork).
 */
export const WORK_MODES = ['ManualIn', 'AutoIn', 'AfterCallWork', 'AuxWork'] as const;
export type WorkMode = (typeof WORK_MODES)[number];

export interface ChannelState {
  readonly state: AgentState;
  /** When the state was entered, or the agent was last offered work: routing picks the longest idle. */
  readonly since: number;
  readonly workMode?: WorkMode;
  /** NotReady's reason, when the agent gave one. */
  readonly reasonCode?: string;
  /** Wrap-up after a routed call: when it ends by itself and the agent goes back to Ready (ms). */
  readonly wrapUpUntil?: number;
}

/** The device's own settings (POST /api/v2/me/devices/{id}): do-not-disturb and call forwarding. */
export interface DeviceSettings {
  readonly doNotDisturb: boolean;
  /** Where the device's incoming calls ring instead, or null. */
  readonly forwardTo: string | null;
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
  /** Absent: DND off, no forwarding. Independent of the contact-center session. */
  readonly device?: DeviceSettings;
}

export const noSession = (userId: string): AgentSession => ({ userId, version: 0, channels: null, startedAt: null, monitoring: null });
