/**
 * The agent chat operations' parameters (POST /api/v2/me/chats/{id}), as one schema table in the
 * order GWS names them, plus the supervisor's Intrude and the customer's requests.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { operationParser, type OperationOf, type Parsed } from '../commands/parse.js';
import { compileParams } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';

export const TEXT_LIMIT = 16 * 1024;
/** The "text group": text, and messageType / treatAs that are only meaningful with it. */
const TextGroup = {
  text: Type.Optional(Type.String({ maxLength: TEXT_LIMIT })),
  messageType: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  treatAs: Type.Optional(Type.String()),
};
const RequiredText = {
  text: Type.String({ maxLength: TEXT_LIMIT }),
  messageType: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  treatAs: Type.Optional(Type.String()),
};
const Target = {
  targetUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  targetPath: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
};
const UserData = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number()]));
const op = <P extends Record<string, TSchema>>(props: P) => Type.Object({ operationName: Type.String(), ...props });
const NoParams = op({});

export const CHAT_SCHEMAS = {
  Accept: op({ nickname: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })), saveLAR: Type.Optional(Type.Boolean()) }),
  Reject: NoParams,
  Transfer: op({ ...Target, queueName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })), ...TextGroup }),
  Leave: op(TextGroup),
  Invite: op({ ...Target }),
  Consult: op({ ...Target }),
  SetInFocus: NoParams,
  SetDisposition: op({ disposition: Type.String({ minLength: 1, maxLength: 1024 }), dispositionKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }),
  AttachUserData: op({ userData: UserData }),
  DeleteUserData: op({ keys: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 })) }),
  UpdateUserData: op({ userData: UserData }),
  SendToAgents: op(RequiredText),
  SendStartTypingToAgentsNotification: NoParams,
  SendStopTypingToAgentsNotification: NoParams,
  Complete: op({ queueName: Type.Optional(Type.String({ maxLength: 256 })), saveLAR: Type.Optional(Type.Boolean()), ...TextGroup }),
  SendMessage: op(RequiredText),
  SendStartTypingNotification: op(TextGroup),
  SendStopTypingNotification: op(TextGroup),
  RemoveParticipantFromConference: op({ ...Target, ...TextGroup }),
  SendUrl: op({ url: Type.String({ minLength: 1, maxLength: 2048 }), ...TextGroup }),
  SendNicknameUpdatedNotice: op({ noticeText: Type.String({ minLength: 1, maxLength: 256 }) }),
  SwitchToMonitor: NoParams,
  SwitchToCoach: NoParams,
  SwitchToBargeIn: NoParams,
} as const;
export type ChatSchemas = typeof CHAT_SCHEMAS;
export type ChatOperation = keyof ChatSchemas;
export type ChatParams<K extends ChatOperation> = Static<ChatSchemas[K]>;
export type ChatOperationCommand = OperationOf<ChatSchemas>;
export type ParsedChatOperation = Parsed<ChatSchemas>;

export type TextGroupParams = { text?: string; messageType?: string; treatAs?: string };

/** The text group's rules: messageType/treatAs need text (1); treatAs is Normal|System (10). */
export const checkTextGroup = (p: TextGroupParams): Refusal | null => {
  if (p.text === undefined && p.messageType !== undefined) return refuse.missingParameter('text');
  if (p.text === undefined && p.treatAs !== undefined) return refuse.missingParameter('text');
  if (p.treatAs !== undefined && p.treatAs !== 'Normal' && p.treatAs !== 'System')
    return refuse.invalidParameter('treatAs', `must be Normal or System, not '${p.treatAs}'`);
  return null;
};

const TEXT_GROUP_OPERATIONS: ReadonlySet<ChatOperation> = new Set([
  'Transfer', 'Leave', 'SendToAgents', 'Complete', 'SendMessage', 'SendStartTypingNotification',
  'SendStopTypingNotification', 'RemoveParticipantFromConference', 'SendUrl',
]);

export const parseChatOperation = operationParser('a chat', CHAT_SCHEMAS, (name, params) =>
  TEXT_GROUP_OPERATIONS.has(name) ? checkTextGroup(params as TextGroupParams) : null,
);
export const CHAT_OPERATIONS = parseChatOperation.names;

/** POST /api/v2/users/{userId}/chats/{chatId} */
export const INTRUDE_SCHEMAS = {
  Intrude: Type.Object({ operationName: Type.String(), supervisorVisibilityMode: Type.Enum(['Monitor', 'Coach', 'BargeIn']) }),
} as const;
export type ParsedIntrudeOperation = Parsed<typeof INTRUDE_SCHEMAS>;
export const parseIntrudeOperation = operationParser(`a user's chat`, INTRUDE_SCHEMAS);

// ---- The customer's requests (GMS Chat API v2) --------------------------------------------------
const Name = Type.String({ minLength: 1, maxLength: 256 });
const StartChatSchema = Type.Object({
  nickname: Type.Optional(Name),
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
  emailAddress: Type.Optional(Type.String({ maxLength: 256 })),
  subject: Type.Optional(Type.String({ maxLength: 1024 })),
  userData: Type.Optional(UserData),
});
export type StartChatParams = Static<typeof StartChatSchema>;
const startChat = compileParams<typeof StartChatSchema, StartChatParams>(StartChatSchema);

export const MESSAGE_LIMIT = 16 * 1024;
const SendSchema = Type.Object({ message: Type.String({ minLength: 1, maxLength: MESSAGE_LIMIT }), messageType: Type.Optional(Type.String({ maxLength: 128 })) });
export type CustomerSendParams = Static<typeof SendSchema>;
const customerSend = compileParams<typeof SendSchema, CustomerSendParams>(SendSchema);

/** The customer's start request: a nickname, or a first and last name. */
export const parseStartChat = (fields: Readonly<Record<string, unknown>>): StartChatParams | Refusal => {
  const parsed = startChat(fields);
  if (!parsed.ok) return parsed;
  const p = parsed.value;
  if (p.nickname === undefined && (p.firstName === undefined || p.lastName === undefined))
    return refuse.missingParameter(p.firstName === undefined ? 'nickname' : 'lastName');
  return p;
};

export const parseCustomerSend = (fields: Readonly<Record<string, unknown>>): CustomerSendParams | Refusal => {
  const parsed = customerSend({
    ...(fields['message'] !== undefined ? { message: fields['message'] } : {}),
    ...(fields['messageType'] !== undefined ? { messageType: fields['messageType'] } : {}),
  });
  return parsed.ok ? parsed.value : parsed;
};
