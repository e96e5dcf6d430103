/**
 * The typed commands the engine executes. Each dialect parses its wire body at the edge into one
 * of these (see the schema tables in src/domain/*\/commands.ts); internal callers — compliance,
 * the Cloud dialect, the simulation API — build them directly. Nothing here is a wire body.
 */
import type { Actor } from '../domain/actor.js';
import type { ParsedChannelOperation, ParsedDeviceOperation, ParsedSessionOperation } from '../domain/agent/commands.js';
import type { ChannelResult } from '../domain/agent/decide.js';
import type { CustomerSendParams, ParsedChatOperation, ParsedIntrudeOperation, StartChatParams } from '../domain/chat/commands.js';
import type { CustomerCredentials } from '../domain/chat/customer.js';
import type { Chat } from '../domain/chat/model.js';
import type { Refusal } from '../domain/refusals.js';
import type { ParsedDialOperation, ParsedVoiceOperation } from '../domain/voice/commands.js';
import type { ExternalAction } from '../domain/voice/external.js';
import type { UserData } from '../domain/voice/model.js';

type WithDn = Actor & { readonly dn: string };

export type Command =
  /** POST /api/v2/me/calls/{id} */
  | { readonly type: 'CallOperation'; readonly actor: Actor; readonly callId: string; readonly operation: ParsedVoiceOperation }
  /** POST /api/v2/me/devices/{id}/calls (the device is the actor's own, checked at the edge). */
  | { readonly type: 'Dial'; readonly actor: WithDn; readonly operation: ParsedDialOperation }
  /** POST /api/v2/me/devices/{id}: supervisor monitoring on the actor's own device. */
  | { readonly type: 'DeviceOperation'; readonly actor: WithDn; readonly operation: ParsedDeviceOperation }
  /** POST /api/v2/me */
  | { readonly type: 'SessionOperation'; readonly actor: Actor; readonly operation: ParsedSessionOperation }
  /** POST /api/v2/me/channels/{channel} */
  | { readonly type: 'ChannelOperation'; readonly actor: Actor; readonly channel: string; readonly operation: ParsedChannelOperation }
  /** POST /api/v2/me/chats/{id} */
  | { readonly type: 'ChatOperation'; readonly actor: Actor; readonly chatId: string; readonly operation: ParsedChatOperation }
  /** POST /api/v2/users/{userId}/chats/{chatId} */
  | {
      readonly type: 'Intrude';
      readonly actor: Actor;
      readonly agentUserId: string;
      readonly chatId: string;
      readonly operation: ParsedIntrudeOperation;
    }
  /** The outside world: a call from an external number ringing at an agent's DN (simulation API). */
  | { readonly type: 'InboundCall'; readonly from: string; readonly to: string; readonly userData: UserData }
  /**
   * The outside world: an external party of a call answers, hangs up or sends DTMF (simulation
   * API, and the far end answering by itself). `number` names the party; absent, the call's
   * present external party acts.
   */
  | {
      readonly type: 'ExternalParty';
      readonly callId: string;
      readonly number?: string;
      readonly action: ExternalAction;
      readonly digits?: string;
    }
  /** Queue routing's timers (engine/routing-timers.ts): an offer unanswered in time; a wrap-up's end. */
  | { readonly type: 'RingTimeout'; readonly callId: string; readonly dn: string }
  | { readonly type: 'WrapUpEnd'; readonly userId: string; readonly until: number }
  /** The customer's side (GMS-style chat API). */
  | { readonly type: 'CustomerStart'; readonly serviceName: string; readonly params: StartChatParams }
  | { readonly type: 'CustomerSend'; readonly chatId: string; readonly creds: CustomerCredentials; readonly params: CustomerSendParams }
  | { readonly type: 'CustomerRead'; readonly chatId: string; readonly creds: CustomerCredentials }
  | { readonly type: 'CustomerDisconnect'; readonly chatId: string; readonly creds: CustomerCredentials }
  /** A chat still waiting for an agent after `maxWaitMs` ends, and its customer is told. */
  | { readonly type: 'ExpireWaitingChat'; readonly chatId: string; readonly maxWaitMs: number };

export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** What an accepted command answers, by command type. */
export interface Answers {
  CallOperation: object;
  Dial: { readonly callId: string };
  DeviceOperation: object;
  /** StartContactCenterSession: the channels it could not start (a partial success), if any. */
  SessionOperation: { readonly unserved?: readonly ChannelResult[]; readonly started?: readonly string[] };
  ChannelOperation: object;
  ChatOperation: { readonly referenceId?: number };
  Intrude: { readonly referenceId: number };
  InboundCall: { readonly callId: string };
  ExternalParty: object;
  RingTimeout: object;
  WrapUpEnd: object;
  CustomerStart: { readonly chat: Chat };
  CustomerSend: { readonly chat: Chat };
  CustomerRead: { readonly chat: Chat };
  CustomerDisconnect: { readonly chat: Chat };
  ExpireWaitingChat: { readonly expired: boolean };
}

export type Accepted<T = object> = { readonly ok: true } & T;
/** The one outcome type: accepted with the command's answer, or a refusal that changed nothing. */
export type Outcome<T = object> = Accepted<T> | Refusal;
