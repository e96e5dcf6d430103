/** The agent's own operations' parameters (session, channels, monitoring), as schema tables. */
import Type from 'typebox';
import { operationParser, type Parsed } from '../commands/parse.js';

const NoParams = Type.Object({ operationName: Type.String() });

/** POST /api/v2/me */
export const SESSION_SCHEMAS = {
  StartContactCenterSession: Type.Object({
    operationName: Type.String(),
    // Any channel name a GWS desktop may ask for (voice, chat, email, workitem, IM…): the ones
    // Conclave does not serve are answered per channel (StartContactCenterSession page).
    channels: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }), { minItems: 1, maxItems: 16, uniqueItems: true }),
    ),
    place: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  EndContactCenterSession: NoParams,
} as const;
export type ParsedSessionOperation = Parsed<typeof SESSION_SCHEMAS>;
export const parseSessionOperation = operationParser('/me', SESSION_SCHEMAS);
export const SESSION_OPERATIONS = parseSessionOperation.names;

/** POST /api/v2/me/channels/{channel}: the media channels' Ready and NotReady (chat). */
export const CHANNEL_SCHEMAS = { Ready: NoParams, NotReady: NoParams } as const;
/**
 * POST /api/v2/me/channels/voice: the voice work cycle as the GWS reference pages show it
 * (AgentStateReady with `workmode`, AgentStateAfterCallWork with `wrapUpTime`, AgentStateAuxWork),
 * and NotReady with `reasonCode` and `agentWorkMode`, which the issue asks for although the
 * NotReady page shows no parameter (docs/decisions.md).
 */
export const VOICE_CHANNEL_SCHEMAS = {
  Ready: Type.Object({ operationName: Type.String(), workmode: Type.Optional(Type.Enum(['ManualIn', 'AutoIn'])) }),
  NotReady: Type.Object({
    operationName: Type.String(),
    reasonCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 _.-]+$' })),
    agentWorkMode: Type.Optional(Type.Enum(['AfterCallWork', 'AuxWork'])),
  }),
  AfterCallWork: Type.Object({ operationName: Type.String(), wrapUpTime: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
  AuxWork: NoParams,
} as const;
const parseChatChannel = operationParser('channel chat', CHANNEL_SCHEMAS);
const parseVoiceChannel = operationParser('channel voice', VOICE_CHANNEL_SCHEMAS);
export type ParsedChannelOperation = Parsed<typeof VOICE_CHANNEL_SCHEMAS> | Parsed<typeof CHANNEL_SCHEMAS>;
export const parseChannelOperation = (channel: string): ((body: unknown) => ParsedChannelOperation) =>
  channel === 'voice' ? parseVoiceChannel : parseChatChannel;
export const CHANNEL_OPERATIONS = Object.keys(CHANNEL_SCHEMAS) as (keyof typeof CHANNEL_SCHEMAS)[];
export const VOICE_CHANNEL_OPERATIONS = parseVoiceChannel.names;

// SupervisorListenIn/Coach/BargeIn pages: targetDeviceUri, or phoneNumber ("the monitored phone
// number"); one of them is required (checked in decideMonitoring, which names targetDeviceUri).
const MonitorParams = Type.Object({
  operationName: Type.String(),
  targetDeviceUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  phoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  supervisorMonitoringScope: Type.Optional(Type.Enum(['Agent', 'Call'])),
  supervisorMonitoringMode: Type.Optional(Type.Enum(['NextCall', 'AllCalls'])),
});
/** Supervisor monitoring on the supervisor's own device. */
export const MONITORING_SCHEMAS = { ListenIn: MonitorParams, Coach: MonitorParams, BargeIn: MonitorParams, CancelSupervisorMonitoring: NoParams } as const;
/** The device's own settings (AgentStateDoNotDisturbOn/Off, ForwardCallsOn/Off pages). */
export const DEVICE_SETTING_SCHEMAS = {
  DoNotDisturbOn: NoParams,
  DoNotDisturbOff: NoParams,
  ForwardCallsOn: Type.Object({ operationName: Type.String(), destination: Type.String({ pattern: '^\\+?[0-9]{1,20}$' }) }),
  ForwardCallsOff: NoParams,
} as const;
/** POST /api/v2/me/devices/{id}: one table for every operation on one's own device. */
export const DEVICE_SCHEMAS = { ...MONITORING_SCHEMAS, ...DEVICE_SETTING_SCHEMAS } as const;
export type ParsedDeviceOperation = Parsed<typeof DEVICE_SCHEMAS>;
export const parseDeviceOperation = operationParser('a device', DEVICE_SCHEMAS);
export const parseMonitoringOperation = parseDeviceOperation;
export type ParsedMonitoringOperation = Parsed<typeof MONITORING_SCHEMAS>;
export const MONITORING_OPERATIONS = Object.keys(MONITORING_SCHEMAS) as (keyof typeof MONITORING_SCHEMAS)[];
export const DEVICE_SETTING_OPERATIONS = Object.keys(DEVICE_SETTING_SCHEMAS) as (keyof typeof DEVICE_SETTING_SCHEMAS)[];
