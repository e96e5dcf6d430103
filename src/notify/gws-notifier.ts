/**
 * Turns committed domain events into GWS notifications, one per recipient, each rendered from
 * the recipient's own point of view (their state, the other parties, their capabilities), and
 * hands them to the CometD hub. Rendering reads the store after the commit, so a notification
 * always shows committed state.
 */
import { callView } from '../api/gws/views/call.js';
import type { Urls } from '../api/gws/views/urls.js';
import { chatPath, chatUri, chatView, messageView } from '../api/gws/views/chat.js';
import { channelsView, deviceView } from '../api/gws/views/user.js';
import { toActor, type Directory } from '../directory/directory.js';
import type { ChatEvent } from '../domain/chat/events.js';
import type { Chat } from '../domain/chat/model.js';
import type { ChatDirectory } from '../domain/chat/operations.js';
import type { AgentEvent } from '../domain/agent/decide.js';
import type { CallEvent } from '../domain/voice/events.js';
import type { Call } from '../domain/voice/model.js';
import type { Clock, DomainEvent, EventSink } from '../engine/ports.js';
import type { Store } from '../store/port.js';
import type { GwsChannel } from './cometd-hub.js';

export interface Delivery {
  deliver(userId: string, channel: GwsChannel, data: unknown): void;
  /** How many live sessions the user has: nobody listening, nothing to render. */
  sessionCount(userId: string): number;
}

export interface GwsNotifierDeps {
  readonly store: Store;
  readonly directory: Directory;
  readonly chatDirectory: ChatDirectory;
  readonly clock: Clock;
  readonly urls: Urls;
  readonly delivery: Delivery;
}

export const createGwsNotifier = (deps: GwsNotifierDeps): EventSink => {
  const { store, directory, clock, urls, delivery, chatDirectory } = deps;

  const chatMessage = (event: ChatEvent, chats: Map<string, Chat>) => {
    const user = directory.byId(event.userId);
    if (!user || delivery.sessionCount(user.id) === 0) return;
    const chat = chats.get(event.chatId) ?? store.getChat(event.chatId);
    if (!chat) return;
    chats.set(chat.id, chat);
    const reference = event.referenceId !== undefined ? { referenceId: event.referenceId } : {};
    if (event.notificationType === 'NewMessages') {
      const wanted = new Set(event.messageIndexes ?? []);
      delivery.deliver(user.id, '/v2/me/chats', {
        messages: chat.messages.filter((m) => wanted.has(m.index)).map((m) => messageView(urls, chat, m)),
        notificationType: 'NewMessages',
        messageType: 'MessageLogUpdated',
        chatUri: chatUri(urls, chat.id),
        chatPath: chatPath(chat.id),
        ...reference,
      });
      return;
    }
    delivery.deliver(user.id, '/v2/me/chats', {
      ...reference,
      chat: chatView(urls, chat, toActor(user), chatDirectory),
      notificationType: event.notificationType,
      messageType: 'ChatStateChangeMessage',
    });
  };

  const callMessage = (event: CallEvent, calls: Map<string, Call>, viewerCalls: (dn: string) => Map<string, Call>) => {
    const viewer = directory.byDn(event.dn);
    if (!viewer || delivery.sessionCount(viewer.id) === 0) return;
    const call = calls.get(event.callId) ?? store.getCall(event.callId);
    if (!call) return;
    calls.set(call.id, call);
    const data = {
      notificationType: event.notificationType,
      call: callView({ urls, now: clock.now(), directory, call, viewer, viewerCalls: viewerCalls(event.dn) }),
      phoneNumber: event.dn,
      extensions: { BusinessCall: 0 },
      messageType: 'CallStateChangeMessage',
    };
    delivery.deliver(viewer.id, '/v2/me/calls', data);
  };

  const agentMessages = (event: AgentEvent) => {
    const user = directory.byId(event.userId);
    if (!user || delivery.sessionCount(user.id) === 0) return;
    const session = store.getAgentSession(user.id);
    if (event.channels.includes('voice') && user.deviceId)
      delivery.deliver(user.id, '/v2/me/devices', { messageType: 'DeviceStateChangeMessage', devices: [deviceView(urls, user, session)] });
    delivery.deliver(user.id, '/v2/me/channels', { messageType: 'ChannelStateChangeMessage', channels: channelsView(session) });
  };

  return {
    publish(events: readonly DomainEvent[]) {
      // One batch shares its reads: every recipient's calls are loaded once.
      const calls = new Map<string, Call>();
      const chats = new Map<string, Chat>();
      const byDn = new Map<string, Map<string, Call>>();
      const viewerCalls = (dn: string) => {
        let mine = byDn.get(dn);
        if (!mine) byDn.set(dn, (mine = new Map(store.presentCallsOf(dn).map((c) => [c.id, c]))));
        return mine;
      };
      for (const event of events) {
        if (event.kind === 'call') callMessage(event, calls, viewerCalls);
        else if (event.kind === 'chat') chatMessage(event, chats);
        else agentMessages(event);
      }
    },
  };
};
