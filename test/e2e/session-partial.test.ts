/**
 * StartContactCenterSession with channels Conclave does not serve (GWS/8.5.2/API/
 * StartContactCenterSession): "a partial-success statusCode of 7"; the served channels start and
 * answer statusCode 0, the others a statusCode and statusMessage; when all fail, one channel's
 * statusCode and statusMessage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listen, type Listener } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('StartContactCenterSession with channels Conclave does not serve', () => {
  let server: TestServer;
  let a: GwsClient;
  let la: Listener;
  before(async () => {
    server = await startTestServer();
    a = gws(server.url, 'agent15000');
    la = await listen(server.url, 'agent15000');
  });
  after(async () => {
    await la?.disconnect();
    await server?.dispose();
  });

  const channelsOf = async () => Object.fromEntries((await a.get('/api/v2/me?subresources=channels')).body.user.channels.map((c: any) => [c.channel, c.userState.state]));

  it('voice + email + chat: partial success 7, voice and chat started, email refused with a reason', async () => {
    const reply = await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice', 'email', 'chat'] });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.statusCode, 7);
    assert.match(reply.body.statusMessage, /email/);
    const byChannel = Object.fromEntries(reply.body.channels.map((c: any) => [c.channel, c]));
    assert.equal(byChannel.voice.statusCode, 0);
    assert.equal(byChannel.chat.statusCode, 0);
    assert.equal(byChannel.email.statusCode, 10);
    assert.match(byChannel.email.statusMessage, /email/);
    assert.deepEqual(await channelsOf(), { voice: 'NotReady', chat: 'NotReady' });
    assert.deepEqual((await a.post('/api/v2/me', { operationName: 'EndContactCenterSession' })).body, { statusCode: 0 });
  });

  it('bad input: only unserved channels: one channel\'s refusal (400), no session, nobody notified', async () => {
    await la.caughtUp();
    const mark = la.received.length;
    const reply = await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['email', 'workitem'] });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.statusCode, 10);
    assert.match(reply.body.statusMessage, /email/);
    for (const bad of [['voice', 'voice'], ['no spaces'], [], [7]]) {
      const r = await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.statusCode, 10, JSON.stringify(bad));
    }
    assert.deepEqual(await channelsOf(), {});
    await la.caughtUp();
    assert.equal(la.received.length, mark, 'nobody was notified');
  });
});
