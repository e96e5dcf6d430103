/**
 * Genesys Cloud backend, on the official `purecloud-platform-client-v2` SDK pointed at the target
 * with setGateway: the documented single-participant removal, PATCH
 * /api/v2/conversations/calls/{conversationId}/participants/{participantId} {"state":"disconnected"},
 * never the full teardown.
 */
import platformClient from 'purecloud-platform-client-v2';
import type { ComplianceBackend } from './port.js';

export interface CloudBackendOptions {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The path the dialect is served under on the target (Conclave: 'cloud'; Genesys Cloud: none). */
  readonly pathPrefix: string;
}

export const createCloudBackend = (options: CloudBackendOptions): ComplianceBackend => ({
  name: 'cloud',
  async eject(user, report) {
    const started = Date.now();
    const target = new URL(options.url);
    const client = platformClient.ApiClient.instance;
    client.setGateway({
      protocol: target.protocol.replace(':', ''),
      host: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path_params_login: options.pathPrefix,
      path_params_api: options.pathPrefix,
    });
    await client.loginClientCredentialsGrant(options.clientId, options.clientSecret);
    const conversations = new platformClient.ConversationsApi();
    const listing = await conversations.getConversationsCalls();
    for (const call of listing.entities ?? []) {
      const connected = (call.participants ?? []).filter((p) => p.state === 'connected');
      const mine = connected.find((p) => p.address === user || p.user?.id === user || p.name === user);
      if (!mine || !call.id || !mine.id) continue;
      const where = { interaction: call.id, participant: mine.address ?? user };
      if (connected.length < 3) {
        report({ step: 'skipped', outcome: 'two-party', ...where });
        continue;
      }
      report({ step: 'found', outcome: 'accepted', ...where });
      try {
        await conversations.patchConversationsCallParticipant(call.id, mine.id, { state: 'disconnected' });
        report({ step: 'removed', outcome: 'ejected', ...where, latencyMs: Date.now() - started });
      } catch (error) {
        const body = error as { status?: number; message?: string };
        report({ step: 'failed', outcome: 'error', ...where, detail: `${body.status ?? ''} ${body.message ?? String(error)}`.trim() });
      }
    }
    report({ step: 'done', outcome: 'completed', interaction: null, participant: user });
  },
});
