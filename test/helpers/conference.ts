/** Building a voice conference over GWS, as several end-to-end tests need it. */
import assert from 'node:assert/strict';
import { gws, type GwsClient } from './gws.js';
import { waitFor } from './wait.js';

const OK = { statusCode: 0 };

/** A user's calls that are not Released (full views). */
export const liveCalls = async (client: GwsClient): Promise<any[]> =>
  (await client.get('/api/v2/me/calls?fields=*')).body.calls.filter((c: any) => c.state !== 'Released');

/** agent<owner> dials guests[0], who answers; the further guests are conferenced in one step each and answer. All through `url`. */
export const conference = async (url: string, owner: string, guests: readonly string[]): Promise<string> => {
  const ok = async (reply: Promise<{ body: unknown }>, what: string) => assert.deepEqual((await reply).body, OK, what);
  await ok(gws(url, `agent${owner}`).dial(guests[0] as string), 'dial');
  const callId = (await waitFor(async () => (await liveCalls(gws(url, `agent${guests[0]}`))).find((c) => c.state === 'Ringing'), 5000, 'the call rings for the guest')).id as string;
  await ok(gws(url, `agent${guests[0]}`).op(callId, 'Answer'), 'answer');
  for (const dn of guests.slice(1)) {
    await ok(gws(url, `agent${owner}`).op(callId, 'SingleStepConference', { destination: { phoneNumber: dn } }), 'conference');
    await ok(gws(url, `agent${dn}`).op(callId, 'Answer'), 'answer the conference');
  }
  return callId;
};
