/**
 * The console's page: static files from the package's src/console/ folder (found by walking up
 * from this module, so it works from dist/ after `npm run build` and needs no copy step), plus
 * preact + hooks + htm as the one ESM file the installed `htm` package ships, served as
 * /console/vendor/preact-htm.js. Everything is read once at start and served from memory; the
 * Content-Security-Policy lets the page talk to this server only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** src/console/ of the package this module belongs to (from src/api/conclave/ or dist/src/api/conclave/). */
export const consoleFolder = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'src', 'console');
    if (existsSync(join(candidate, 'index.html')) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the console page (src/console/index.html) is not in this package');
    dir = parent;
  }
};

/**
 * The browser build of preact + hooks + htm: the package exports `htm/preact/standalone`, whose
 * `import` file has a `browser` twin (standalone.module.js) beside it; that twin is served.
 */
export const preactHtmFile = (): string => {
  const resolved = fileURLToPath(import.meta.resolve('htm/preact/standalone'));
  const browser = join(dirname(resolved), 'standalone.module.js');
  return existsSync(browser) ? browser : resolved;
};

export const consoleStatic = () => async (app: FastifyInstance) => {
  const folder = consoleFolder();
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(folder)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(folder, name)) });
  }
  files.set('vendor/preact-htm.js', { type: TYPES['.js'] as string, body: readFileSync(preactHtmFile()) });

  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console', hide, async (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/*', hide, async (request, reply) => {
    const path = (request.params as { '*': string })['*'] || 'index.html';
    const file = files.get(path);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send(`no such console file: ${path}`);
    return reply.headers(HEADERS).type(file.type).send(file.body);
  });
};
