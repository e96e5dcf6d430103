/**
 * CometD limits: at most 64 sessions per user (a 65th handshake is denied at the Bayeux level);
 * a session given back makes room again; other users are not affected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('CometD session cap per user', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(async () => server?.dispose());

  const bayeux = async (user: string, message: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/api/v2/notifications/${String(message['channel']).split('/').pop()}`, {
      method: 'POST',
      headers: { authorization: basic(user), 'content-type': 'application/json' },
      body: JSON.stringify([message]),
    });
    return ((await response.json()) as any[])[0];
  };
  const handshake = (user: string) => bayeux(user, { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] });

  it('denies the 65th session of one user, and allows one again after a disconnect', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 64; i++) {
      const reply = await handshake('agent15000');
      assert.equal(reply.successful, true, `handshake ${i + 1}`);
      sessions.push(reply.clientId);
    }
    const denied = await handshake('agent15000');
    assert.equal(denied.successful, false);
    assert.equal(denied.error, '403::handshake_denied');
    assert.equal((await handshake('agent15001')).successful, true, 'another user is not affected');

    const gone = await bayeux('agent15000', { channel: '/meta/disconnect', clientId: sessions[0] });
    assert.equal(gone.successful, true);
    assert.equal((await handshake('agent15000')).successful, true, 'room again after a disconnect');
  });
});
