/**
 * Genesys Cloud notification channels: POST /api/v2/notifications/channels gives a channel with a
 * WebSocket `connectUri`; subscriptions name topics; every change to a call is pushed as
 * {topicName, version, eventBody, metadata} to each subscribed topic it concerns:
 *  - `v2.users.{userId}.conversations.calls` → ConversationCallEventTopicCallConversation (flat
 *    participants, endTime on the one who left);
 *  - `v2.users.{userId}.conversations` → ConversationEventTopicConversation (participants with
 *    calls[], state inside calls[0]);
 *  - `v2.routing.queues.{queueId}.conversations` → QueueConversationEventTopicConversation (the
 *    same shape), for calls routed through a queue the CloudQueues port knows. A heartbeat
 * (`channel.metadata`, "WebSocket Heartbeat") keeps the socket alive. Channels live in memory
 * (24 h), as they are per client connection.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Directory, OAuthClient } from '../../directory/directory.js';
import type { DomainEvent, EventSink } from '../../engine/ports.js';
import type { FastifyInstance } from 'fastify';
import { accessOf, mayWatch, MISSING_PERMISSION } from './access.js';
import { errorBody } from './errors.js';
import type { CloudQueues } from './queues.js';
import { callConversationEventView, conversationEventView } from './views.js';

const CHANNEL_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_CHANNELS_PER_CLIENT = 20;
const MAX_TOPICS_PER_CHANNEL = 1000;
const USER_TOPIC = /^v2\.users\.([0-9a-f]{32})\.conversations(\.calls)?$/;
const QUEUE_TOPIC = /^v2\.routing\.queues\.([^.]{1,64})\.conversations$/;

interface Channel {
  readonly id: string;
  readonly clientId: string;
  readonly expires: number;
  readonly topics: Set<string>;
  readonly sockets: Set<WebSocket>;
}

export interface CloudNotifications {
  /** The event sink that pushes what is committed to subscribed channels. */
  readonly sink: EventSink;
  /** Registers the REST routes (inside the authenticated /cloud/api/v2 scope). */
  routes(api: FastifyInstance): void;
  /** Takes WebSocket upgrades for channel URIs on the HTTP server. */
  attach(server: Server, baseUrl: () => string): void;
  close(): void;
}

export const createCloudNotifications = (deps: { directory: Directory; queues: CloudQueues; heartbeatMs?: number; now: () => number }): CloudNotifications => {
  const { directory, queues } = deps;
  const channels = new Map<string, Channel>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  let base = () => '';

  const send = (socket: WebSocket, message: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const heartbeat = setInterval(() => {
    for (const channel of channels.values()) {
      if (channel.expires < deps.now()) {
        for (const socket of channel.sockets) socket.close(1000, 'channel expired');
        channels.delete(channel.id);
        continue;
      }
      for (const socket of channel.sockets) send(socket, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    }
  }, deps.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const push = (events: readonly DomainEvent[]) => {
    if (channels.size === 0) return;
    // One message per (channel, topic, call) per commit, however many events it caused.
    const seen = new Set<string>();
    const deliver = (topic: string, event: DomainEvent & { kind: 'call' }, render: () => unknown) => {
      for (const channel of channels.values()) {
        const key = `${channel.id}|${topic}|${event.callId}`;
        if (!channel.topics.has(topic) || channel.sockets.size === 0 || seen.has(key)) continue;
        seen.add(key);
        const message = { topicName: topic, version: '2', eventBody: render(), metadata: { CorrelationId: randomUUID() } };
        for (const socket of channel.sockets) send(socket, message);
      }
    };
    for (const event of events) {
      if (event.kind !== 'call') continue;
      const user = directory.byDn(event.dn);
      if (user) {
        deliver(`v2.users.${user.id}.conversations.calls`, event, () => callConversationEventView(event.call, directory, queues));
        deliver(`v2.users.${user.id}.conversations`, event, () => conversationEventView(event.call, directory, queues));
      }
      const queue = queues.queueOf(event.call);
      if (queue) deliver(`v2.routing.queues.${queue.id}.conversations`, event, () => conversationEventView(event.call, directory, queues));
    }
  };

  const owned = (id: string, client: OAuthClient): Channel | undefined => {
    const channel = channels.get(id);
    return channel && channel.clientId === client.clientId && channel.expires >= deps.now() ? channel : undefined;
  };

  /** Topic list from a subscriptions body: [{id}], each a topic about a known user. */
  const topicsOf = (body: unknown): string[] | string => {
    if (!Array.isArray(body)) return 'the body must be an array of {"id": topic}';
    const topics: string[] = [];
    for (const item of body) {
      const id = (item as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') return 'each subscription must be an object with a string id (the topic)';
      const queue = QUEUE_TOPIC.exec(id);
      if (queue) {
        if (!queues.byId(queue[1] as string)) return `topic '${id}' names an unknown queue`;
        topics.push(id);
        continue;
      }
      const match = USER_TOPIC.exec(id);
      if (!match)
        return `topic '${id}' is not supported: use v2.users.{userId}.conversations.calls, v2.users.{userId}.conversations or v2.routing.queues.{queueId}.conversations`;
      if (!directory.byId(match[1] as string)) return `topic '${id}' names an unknown user`;
      topics.push(id);
    }
    return topics;
  };

  return {
    sink: { publish: push },

    routes(plain) {
      const api = plain.withTypeProvider<TypeBoxTypeProvider>();
      const Params = { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } };
      const notFound = (id: string) => errorBody(404, 'not.found', `notification channel ${id} was not found or has expired`);

      api.post('/notifications/channels', async (request, reply) => {
        const mine = [...channels.values()].filter((c) => c.clientId === request.client.clientId && c.expires >= deps.now());
        if (mine.length >= MAX_CHANNELS_PER_CLIENT)
          return reply.code(400).send(errorBody(400, 'bad.request', `a client may hold at most ${MAX_CHANNELS_PER_CLIENT} channels`));
        const channel: Channel = { id: randomUUID(), clientId: request.client.clientId, expires: deps.now() + CHANNEL_TTL_MS, topics: new Set(), sockets: new Set() };
        channels.set(channel.id, channel);
        return {
          id: channel.id,
          connectUri: `${base().replace(/^http/, 'ws')}/cloud/channels/${channel.id}`,
          expires: new Date(channel.expires).toISOString(),
        };
      });

      api.head('/notifications/channels/:id', Params, async (request, reply) =>
        reply.code(owned(request.params.id, request.client) ? 200 : 404).send(),
      );

      api.get('/notifications/channels/:id/subscriptions', Params, async (request, reply) => {
        const channel = owned(request.params.id, request.client);
        if (!channel) return reply.code(404).send(notFound(request.params.id));
        return { entities: [...channel.topics].map((id) => ({ id })) };
      });

      const change = (mode: 'replace' | 'add') =>
        async (request: { params: { id: string }; body: unknown; client: OAuthClient }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
          const channel = owned(request.params.id, request.client);
          if (!channel) return reply.code(404).send(notFound(request.params.id));
          const topics = topicsOf(request.body);
          if (typeof topics === 'string') return reply.code(400).send(errorBody(400, 'bad.request', topics));
          const access = accessOf(request.client, directory);
          const denied = topics.find((t) => !mayWatch(access, t));
          if (denied !== undefined)
            return reply.code(403).send(errorBody(403, MISSING_PERMISSION, `client ${request.client.clientId} may not subscribe to ${denied}: it may watch only its own user's topics`));
          const next = new Set(mode === 'replace' ? topics : [...channel.topics, ...topics]);
          if (next.size > MAX_TOPICS_PER_CHANNEL)
            return reply.code(400).send(errorBody(400, 'bad.request', `a channel may hold at most ${MAX_TOPICS_PER_CHANNEL} topics`));
          channel.topics.clear();
          for (const t of next) channel.topics.add(t);
          return reply.code(200).send({ entities: [...channel.topics].map((id) => ({ id })) });
        };
      api.put('/notifications/channels/:id/subscriptions', Params, change('replace'));
      api.post('/notifications/channels/:id/subscriptions', Params, change('add'));
      api.delete('/notifications/channels/:id/subscriptions', Params, async (request, reply) => {
        const channel = owned(request.params.id, request.client);
        if (!channel) return reply.code(404).send(notFound(request.params.id));
        channel.topics.clear();
        return reply.code(204).send('');
      });
    },

    attach(server, baseUrl) {
      base = baseUrl;
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        const id = /^\/cloud\/channels\/([0-9a-f-]{36})$/.exec((request.url ?? '').split('?')[0] ?? '')?.[1];
        const channel = id ? channels.get(id) : undefined;
        if (!channel || channel.expires < deps.now()) {
          socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          channel.sockets.add(ws);
          ws.on('close', () => channel.sockets.delete(ws));
          send(ws, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
        });
      });
    },

    close() {
      clearInterval(heartbeat);
      for (const channel of channels.values()) for (const socket of channel.sockets) socket.terminate();
      wss.close();
    },
  };
};
