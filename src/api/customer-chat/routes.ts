/**
 * The customer's chat API, modelled on the GMS Chat API v2: `POST /genesys/2/chat/{serviceName}`
 * starts a chat; `.../{chatId}/send|refresh|disconnect` act on it. Bodies are form-encoded (as
 * GMS takes them) or JSON. No HTTP credentials: each request after the first authenticates with
 * the chat's userId + secureKey + alias, and a mismatch is HTTP 403 with nothing changed.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { parseCustomerSend, parseStartChat } from '../../domain/chat/commands.js';
import { visibleTo, type Chat } from '../../domain/chat/model.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import type { Engine } from '../../engine/engine.js';
import { errorBody, gwsErrorHandler, gwsNotFoundHandler, httpStatusOf } from '../gws/errors.js';

const ServiceParams = Type.Object({ serviceName: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }) });
const ChatParams = Type.Object({
  serviceName: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
  chatId: Type.String({ minLength: 1, maxLength: 64 }),
});

/** Form fields `userData[key]=value` become `{userData: {key: value}}`, as GMS reads them. */
export const normalizeFields = (body: unknown): Record<string, unknown> | Refusal => {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse.malformedBody('expected form fields or a JSON object');
  const fields: Record<string, unknown> = {};
  const userData: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const match = /^userData\[(.+)\]$/.exec(key);
    if (match) userData[match[1] as string] = value;
    else fields[key] = value;
  }
  if (Object.keys(userData).length > 0) {
    if (fields['userData'] !== undefined) return refuse.invalidParameter('userData', 'is given both as an object and as userData[...] fields');
    fields['userData'] = userData;
  }
  return fields;
};

/** A message as the customer sees it (GMS: `Message` for text, `Client` for the customer). */
const customerMessage = (chat: Chat, m: Chat['messages'][number]) => {
  const isCustomer = m.from === chat.customer.participantId;
  const agent = chat.agents.find((a) => a.participantId === m.from);
  return {
    index: m.index,
    type: m.type === 'Text' ? 'Message' : m.type,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.url !== undefined ? { url: m.url } : {}),
    from: {
      nickname: isCustomer ? chat.customer.nickname : (agent?.nickname ?? ''),
      participantId: isCustomer ? chat.customer.seq : (agent?.seq ?? 0),
      type: isCustomer ? 'Client' : 'Agent',
    },
    utcTime: m.time,
  };
};

/** The GMS answer: the chat's credentials, the transcript from a position, and whether it ended. */
export const customerAnswer = (chat: Chat, fromPosition: number | null) => ({
  statusCode: 0,
  chatId: chat.id,
  userId: chat.customer.userId,
  secureKey: chat.customer.secureKey,
  alias: chat.customer.alias,
  messages: fromPosition === null ? [] : chat.messages.filter((m) => m.index >= fromPosition && visibleTo('customer', m)).map((m) => customerMessage(chat, m)),
  nextPosition: chat.messages.length + 1,
  chatEnded: chat.endedAt !== null,
});

/** `fromPosition` (or GMS's `transcriptPosition`): a whole number from 1, or absent. */
const position = (fields: Record<string, unknown>, fallback: number | null): number | null | Refusal => {
  const name = fields['fromPosition'] !== undefined ? 'fromPosition' : 'transcriptPosition';
  const raw = fields[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : refuse.invalidParameter(name, 'must be a whole number from 1');
};

/** The customer chat API as one plugin, under /genesys/2/chat, with its own error answers. */
export const customerChatPlugin = (engine: Engine) => async (plain: FastifyInstance) => {
  const api = plain.withTypeProvider<TypeBoxTypeProvider>();
  api.setErrorHandler(gwsErrorHandler);
  api.setNotFoundHandler(gwsNotFoundHandler);
  const fail = (reply: { code(n: number): { send(b: unknown): unknown } }, r: Refusal) => reply.code(httpStatusOf(r.statusCode)).send(errorBody(r));

  api.post('/:serviceName', { schema: { params: ServiceParams } }, async (request, reply) => {
    const fields = normalizeFields(request.body);
    if (isRefusal(fields)) return fail(reply, fields);
    const params = parseStartChat(fields);
    if (isRefusal(params)) return fail(reply, params);
    const outcome = await engine.execute({ type: 'CustomerStart', serviceName: request.params.serviceName, params });
    return isRefusal(outcome) ? fail(reply, outcome) : customerAnswer(outcome.chat, 1);
  });

  const action = (verb: 'send' | 'refresh' | 'disconnect') =>
    api.post(`/:serviceName/:chatId/${verb}`, { schema: { params: ChatParams } }, async (request, reply) => {
      const fields = normalizeFields(request.body);
      if (isRefusal(fields)) return fail(reply, fields);
      const from = position(fields, verb === 'refresh' ? 1 : null);
      if (isRefusal(from)) return fail(reply, from);
      const creds = { userId: fields['userId'], secureKey: fields['secureKey'], alias: fields['alias'] };
      const { chatId } = request.params;
      let outcome;
      if (verb === 'send') {
        const params = parseCustomerSend(fields);
        // The chat's credentials are checked first: a stranger learns nothing from a bad message.
        outcome = isRefusal(params)
          ? await engine.execute({ type: 'CustomerRead', chatId, creds }).then((read) => (isRefusal(read) ? read : params))
          : await engine.execute({ type: 'CustomerSend', chatId, creds, params });
      } else if (verb === 'refresh') outcome = await engine.execute({ type: 'CustomerRead', chatId, creds });
      else outcome = await engine.execute({ type: 'CustomerDisconnect', chatId, creds });
      return isRefusal(outcome) ? fail(reply, outcome) : customerAnswer(outcome.chat, from);
    });
  action('send');
  action('refresh');
  action('disconnect');
};
