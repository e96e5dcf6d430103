/** `conclave comply` options from flags and environment variables (a flag wins). Pure. */
import { parseArgs } from 'node:util';

export type ComplyConfig =
  | { readonly backend: 'gws'; readonly url: string; readonly user: string; readonly userName: string; readonly password: string }
  | { readonly backend: 'cloud'; readonly url: string; readonly user: string; readonly clientId: string; readonly clientSecret: string; readonly pathPrefix: string };

export const COMPLY_USAGE =
  'usage: conclave comply --backend gws|cloud --url URL --user USER ' +
  '[--username U --password P (gws)] [--client-id ID --client-secret S --path-prefix cloud (cloud)]';

export const parseComplyConfig = (argv: readonly string[], env: NodeJS.ProcessEnv): { ok: true; config: ComplyConfig } | { ok: false; error: string } => {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        backend: { type: 'string' },
        url: { type: 'string' },
        user: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        'path-prefix': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const pick = (flag: string, variable: string) => values[flag] ?? (env[variable] || undefined);
  const backend = pick('backend', 'CONCLAVE_COMPLY_BACKEND') ?? 'gws';
  if (backend !== 'gws' && backend !== 'cloud') return { ok: false, error: `--backend must be gws or cloud, not '${backend}'` };
  const url = pick('url', 'CONCLAVE_COMPLY_URL');
  if (!url) return { ok: false, error: '--url is required (the target server, e.g. http://127.0.0.1:8080)' };
  try {
    new URL(url);
  } catch {
    return { ok: false, error: `--url '${url}' is not a URL` };
  }
  const user = pick('user', 'CONCLAVE_COMPLY_USER');
  if (!user) return { ok: false, error: '--user is required (the user to eject: user name, user id or DN)' };
  if (backend === 'gws') {
    const userName = pick('username', 'CONCLAVE_COMPLY_USERNAME');
    const password = pick('password', 'CONCLAVE_COMPLY_PASSWORD');
    if (!userName || !password) return { ok: false, error: '--username and --password (a supervisor with a device) are required for the gws backend' };
    return { ok: true, config: { backend, url, user, userName, password } };
  }
  const clientId = pick('client-id', 'CONCLAVE_COMPLY_CLIENT_ID');
  const clientSecret = pick('client-secret', 'CONCLAVE_COMPLY_CLIENT_SECRET');
  if (!clientId || !clientSecret) return { ok: false, error: '--client-id and --client-secret (an OAuth client) are required for the cloud backend' };
  return { ok: true, config: { backend, url, user, clientId, clientSecret, pathPrefix: pick('path-prefix', 'CONCLAVE_COMPLY_PATH_PREFIX') ?? 'cloud' } };
};
