#!/usr/bin/env node
/**
 * A Genesys Cloud compliance orchestrator, written only against the official SDK
 * (purecloud-platform-client-v2): eject one flagged user from every active conference they are
 * in, leave everyone else (and the flagged user's two-party calls) alone, and confirm each removal
 * through a notification channel.
 *
 *   node examples/cloud-compliance-orchestrator.mjs --user agent15001 \
 *        [--base http://127.0.0.1:8080/cloud] [--client-id conclave-demo --client-secret conclave-demo]
 *   (or, against Genesys Cloud itself: --environment mypurecloud.ie, and real client credentials)
 *
 * Steps: client-credentials login; find the user (getUsers); open a channel subscribed to
 * v2.users.{id}.conversations.calls; find the user's active conversations with the analytics
 * detail query (segment userId, conversationEnd notExists); for each one that is a conference,
 * PATCH only that participant {state: "disconnected"}; wait for the event that shows them
 * disconnected. Prints one JSON line per conversation; exits 0 when every conference was left, 1
 * otherwise, 2 on a usage or setup error.
 */
import platformClient from 'purecloud-platform-client-v2';
import { WebSocket } from 'ws';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  if (!key?.startsWith('--') || process.argv[i + 1] === undefined) {
    console.error(`expected --name value pairs, got '${key}'`);
    process.exit(2);
  }
  args[key.slice(2)] = process.argv[i + 1];
}
const user = args.user;
if (!user) {
  console.error('usage: cloud-compliance-orchestrator.mjs --user <username|userId> [--base URL | --environment ENV] [--client-id ID --client-secret SECRET]');
  process.exit(2);
}
const clientId = args['client-id'] || process.env.GENESYS_CLIENT_ID || 'conclave-demo';
const clientSecret = args['client-secret'] || process.env.GENESYS_CLIENT_SECRET || 'conclave-demo';
const confirmMs = Number(args['confirm-ms'] || 10_000);

const client = platformClient.ApiClient.instance;
if (args.environment) client.setEnvironment(args.environment);
else {
  // Conclave serves the Cloud dialect under /cloud: the SDK's gateway setting points there.
  const base = new URL(args.base || 'http://127.0.0.1:8080/cloud');
  const path = base.pathname.replace(/^\/|\/$/g, '');
  client.setGateway({ protocol: base.protocol.replace(':', ''), host: base.hostname, port: base.port, path_params_login: path, path_params_api: path });
}
const usersApi = new platformClient.UsersApi();
const analyticsApi = new platformClient.AnalyticsApi();
const conversationsApi = new platformClient.ConversationsApi();
const notificationsApi = new platformClient.NotificationsApi();
const tokensApi = new platformClient.TokensApi();
const say = (line) => console.log(JSON.stringify(line));

const findUser = async () => {
  for (let pageNumber = 1; ; pageNumber++) {
    const page = await usersApi.getUsers({ pageSize: 100, pageNumber });
    const found = (page.entities ?? []).find((u) => u.id === user || u.username === user);
    if (found) return found;
    if (!page.nextUri) return undefined;
  }
};

const main = async () => {
  await client.loginClientCredentialsGrant(clientId, clientSecret);
  const target = await findUser();
  if (!target) {
    say({ error: `no user ${user}` });
    return 2;
  }

  // Listen first, so that no confirmation can be missed.
  const channel = await notificationsApi.postNotificationsChannels();
  const topic = `v2.users.${target.id}.conversations.calls`;
  await notificationsApi.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
  const events = [];
  const waiters = [];
  const socket = new WebSocket(channel.connectUri);
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.topicName !== topic) return;
    events.push(message.eventBody);
    for (const w of [...waiters]) w();
  });
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  const confirmed = (conversationId, participantId) =>
    new Promise((resolve) => {
      const check = () => {
        const seen = events.some((e) => e.id === conversationId && e.participants?.some((p) => p.id === participantId && p.state === 'disconnected'));
        if (seen) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        resolve(false);
      }, confirmMs);
      waiters.push(check);
      check();
    });

  const now = Date.now();
  const query = await analyticsApi.postAnalyticsConversationsDetailsQuery({
    interval: `${new Date(now - 86_400_000).toISOString()}/${new Date(now + 3_600_000).toISOString()}`,
    order: 'asc',
    orderBy: 'conversationStart',
    paging: { pageSize: 100, pageNumber: 1 },
    segmentFilters: [{ type: 'or', predicates: [{ type: 'dimension', dimension: 'userId', operator: 'matches', value: target.id }] }],
    conversationFilters: [{ type: 'and', predicates: [{ type: 'dimension', dimension: 'conversationEnd', operator: 'notExists' }] }],
  });

  let failed = 0;
  for (const found of query.conversations ?? []) {
    const conversation = await conversationsApi.getConversationsCall(found.conversationId);
    const connected = (conversation.participants ?? []).filter((p) => p.state === 'connected');
    const mine = connected.find((p) => p.user?.id === target.id);
    if (!mine) {
      say({ conversationId: conversation.id, outcome: 'not-connected' });
      continue;
    }
    if (connected.length < 3) {
      // Disconnecting one side of a two-party call would end it for the other: not ours to do.
      say({ conversationId: conversation.id, outcome: 'skipped-two-party' });
      continue;
    }
    try {
      await conversationsApi.patchConversationsCallParticipant(conversation.id, mine.id, { state: 'disconnected' });
    } catch (error) {
      failed++;
      say({ conversationId: conversation.id, participantId: mine.id, outcome: 'refused', status: error?.status, code: error?.code, message: error?.message });
      continue;
    }
    const ok = await confirmed(conversation.id, mine.id);
    if (!ok) failed++;
    say({ conversationId: conversation.id, participantId: mine.id, outcome: ok ? 'removed' : 'unconfirmed' });
  }
  socket.close();
  await tokensApi.deleteTokensMe();
  return failed === 0 ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (error) => {
    say({ error: error?.message ?? String(error), status: error?.status, code: error?.code });
    process.exit(2);
  },
);
