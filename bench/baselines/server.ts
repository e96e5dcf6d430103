/**
 * The baselines, each in its own process like Conclave, started as `node server.js KIND` and
 * printing "baseline listening on URL":
 *  - node:    a bare node:http server that reads the POST body, parses it, answers {"statusCode":0};
 *  - fastify: the same route on a bare Fastify app (Conclave's framework, nothing else);
 *  - cometd:  a bare cometd-nodejs-server (same options and ack extension as Conclave) plus
 *             POST /trigger {"to":[users],"id"} that delivers the seed's ParticipantsUpdated
 *             payload, with call.id = id, to those users' sessions and answers {"statusCode":0}.
 * They are what Conclave's figures are divided by: the cost of HTTP, of the framework, and of
 * CometD delivery alone, on this machine, in this run.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import cometd, { type ServerSession } from 'cometd-nodejs-server';
import ackExtension from 'cometd-nodejs-server/ack-extension.js';
import Fastify from 'fastify';
import { SEED_FIXTURE } from '../paths.js';

const OK = '{"statusCode":0}';
const kind = process.argv[2];

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });

const answer = (res: ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

const listen = (server: http.Server) => {
  // Fastify's default (Conclave's): node:http's 5 s would close idle keep-alive sockets under
  // the client between two operations at low rates, and the client would see resets.
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
  });
};

const bareNode = () =>
  listen(
    http.createServer(async (req, res) => {
      const text = await readBody(req);
      try {
        if (text) JSON.parse(text);
      } catch {
        return answer(res, 400, '{"statusCode":10,"statusMessage":"request body is not valid JSON"}');
      }
      answer(res, 200, OK);
    }),
  );

const bareFastify = async () => {
  const app = Fastify({ logger: false });
  app.post('/api/v2/me/calls/:id', async () => ({ statusCode: 0 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`baseline listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
};

const bareCometd = () => {
  const seed = JSON.parse(readFileSync(SEED_FIXTURE, 'utf8')) as { notification: { data: { call: Record<string, unknown> } & Record<string, unknown> } };
  const template = seed.notification.data;
  const server = cometd.createCometDServer({ maxSessionsPerBrowser: -1 });
  server.addExtension(new ackExtension.AcknowledgedMessagesExtension());
  const sessionsByUser = new Map<string, Set<ServerSession>>();
  server.policy = {
    canHandshake(session, _message, callback) {
      // Identify (not authenticate) the user from the Basic header, as Conclave's hub does.
      const request = (server.context as { request?: IncomingMessage }).request;
      const match = /^Basic\s+(\S+)/i.exec(request?.headers.authorization ?? '');
      const user = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : undefined;
      if (!user) return callback(undefined, false);
      const sessions = sessionsByUser.get(user) ?? new Set<ServerSession>();
      sessions.add(session);
      sessionsByUser.set(user, sessions);
      session.addListener('removed', () => sessions.delete(session));
      callback(undefined, true);
    },
  };
  // The bench's clients share one cookie jar per worker (as Conclave's tests do), so sessions
  // are found by clientId, exactly as Conclave's hub finds them (cometd-nodejs-server 1.2.1
  // otherwise looks a session up by its browser cookie only).
  const sessionsById = new Map<string, ServerSession>();
  server.addListener('sessionAdded', (session: ServerSession) => {
    sessionsById.set(session.id, session);
    session.addListener('removed', () => sessionsById.delete(session.id));
  });
  const routeByClientId = (req: IncomingMessage, body: unknown) => {
    const first = Array.isArray(body) ? body[0] : body;
    const clientId = (first as { clientId?: unknown } | null)?.clientId;
    const browserId = typeof clientId === 'string' ? (sessionsById.get(clientId) as { _browserId?: string } | undefined)?._browserId : undefined;
    if (!browserId) return;
    const others = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).filter((c) => c !== '' && !c.startsWith('BAYEUX_BROWSER='));
    req.headers.cookie = [...others, `BAYEUX_BROWSER=${browserId}`].join('; ');
  };
  listen(
    http.createServer(async (req, res) => {
      if (req.url?.startsWith('/api/v2/notifications')) {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch {
          return answer(res, 400, '{"statusCode":10,"statusMessage":"request body is not valid JSON"}');
        }
        routeByClientId(req, body);
        (req as IncomingMessage & { body?: unknown }).body = body;
        return server.handle(req, res);
      }
      if (req.method === 'POST' && req.url === '/trigger') {
        const { to, id } = JSON.parse(await readBody(req)) as { to: string[]; id: string };
        for (const user of to) {
          const data = { ...template, call: { ...template.call, id, callUuid: id } };
          for (const session of sessionsByUser.get(user) ?? []) session.deliver(null, '/v2/me/calls', data);
        }
        return answer(res, 200, OK);
      }
      answer(res, 404, '{"statusCode":6,"statusMessage":"not found"}');
    }),
  );
};

process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));

if (kind === 'node') bareNode();
else if (kind === 'fastify') await bareFastify();
else if (kind === 'cometd') bareCometd();
else {
  process.stderr.write(`usage: node server.js node|fastify|cometd\n`);
  process.exit(2);
}
