/**
 * Turns committed domain events into GWS notifications, one per recipient, each rendered from
 * the recipient's own point of view (their state, the other parties, their capabilities), and
 * hands them to the CometD hub. Rendering reads only the snapshots the event carries, so a
 * notification shows exactly the state that change committed, never a later one.
 */
import { callView } from '../api/gws/views/call.js';
import type { Urls } from '../api/gws/views/urls.js';
import { chatPath, chatUri, chatView, messageView } from '../api/gws/views/chat.js';
import { channelsView, deviceView } from '../api/gws/views/user.js';
import { toActor, type Directory } from '../directory/directory.js';
import { gwsRefs } from '../api/gws/resource-ids.js';
import type { ChatEvent } from '../domain/chat/events.js';
import type { ChatDirectory } from '../domain/chat/operations.js';
import type { CallEvent } from '../domain/voice/events.js';
import type { Clock, DomainEvent, EventSink, SessionEvent } from '../engine/ports.js';
import type { GwsChannel } from './cometd-hub.js';

export interface Delivery {
  deliver(userId: string, channel: GwsChannel, data: unknown): void;
  /** How many live sessions the user has: nobody listening, nothing to render. */
  sessionCount(userId: string): number;
}

export interface GwsNotifierDeps {
  readonly directory: Directory;
  readonly chatDirectory: ChatDirectory;
  readonly clock: Clock;
  readonly urls: Urls;
  readonly delivery: Delivery;
}

export const createGwsNotifier = (deps: GwsNotifierDeps): EventSink => {
  const { directory, clock, urls, delivery, chatDirectory } = deps;

  const chatMessage = (event: ChatEvent) => {
    const user = directory.byId(event.userId);
    if (!user || delivery.sessionCount(user.id) === 0) return;
    const chat = event.chat;
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
      chat: chatView(urls, chat, toActor(user), { directory: chatDirectory, chatSessions: event.chatSessions, userIdOf: gwsRefs.userIdOf }),
      notificationType: event.notificationType,
      messageType: 'ChatStateChangeMessage',
    });
  };

  const callMessage = (event: CallEvent) => {
    const viewer = directory.byDn(event.dn);
    if (!viewer || delivery.sessionCount(viewer.id) === 0) return;
    const data = {
      notificationType: event.notificationType,
      call: callView({ urls, now: clock.now(), directory, call: event.call, viewer, related: event.related }),
      phoneNumber: event.dn,
      extensions: { BusinessCall: 0 },
      messageType: 'CallStateChangeMessage',
    };
    delivery.deliver(viewer.id, '/v2/me/calls', data);
  };

  const agentMessages = (event: SessionEvent) => {
    const user = directory.byId(event.userId);
    if (!user || delivery.sessionCount(user.id) === 0) return;
    const session = event.session;
    if (event.channels.includes('voice') && user.deviceId)
      delivery.deliver(user.id, '/v2/me/devices', { messageType: 'DeviceStateChangeMessage', devices: [deviceView(urls, user, session)] });
    if (!event.deviceOnly) delivery.deliver(user.id, '/v2/me/channels', { messageType: 'ChannelStateChangeMessage', channels: channelsView(session) });
  };

  return {
    publish(events: readonly DomainEvent[]) {
      for (const event of events) {
        if (event.kind === 'call') callMessage(event);
        else if (event.kind === 'chat') chatMessage(event);
        else agentMessages(event);
      }
    },
  };
};
