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

/** POST /api/v2/me/channels/{channel} */
export const CHANNEL_SCHEMAS = { Ready: NoParams, NotReady: NoParams } as const;
export type ParsedChannelOperation = Parsed<typeof CHANNEL_SCHEMAS>;
export const parseChannelOperation = (channel: string) => operationParser(`channel ${channel}`, CHANNEL_SCHEMAS);
export const CHANNEL_OPERATIONS = Object.keys(CHANNEL_SCHEMAS) as (keyof typeof CHANNEL_SCHEMAS)[];

// SupervisorListenIn/Coach/BargeIn pages: targetDeviceUri, or phoneNumber ("the monitored phone
// number"); one of them is required (checked in decideMonitoring, which names targetDeviceUri).
const MonitorParams = Type.Object({
  operationName: Type.String(),
  targetDeviceUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  phoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  supervisorMonitoringScope: Type.Optional(Type.Enum(['Agent', 'Call'])),
  supervisorMonitoringMode: Type.Optional(Type.Enum(['NextCall', 'AllCalls'])),
});
/** POST /api/v2/me/devices/{id}: supervisor monitoring on the supervisor's own device. */
export const MONITORING_SCHEMAS = { ListenIn: MonitorParams, Coach: MonitorParams, BargeIn: MonitorParams, CancelSupervisorMonitoring: NoParams } as const;
export type ParsedMonitoringOperation = Parsed<typeof MONITORING_SCHEMAS>;
export const parseMonitoringOperation = operationParser('a device', MONITORING_SCHEMAS);
export const MONITORING_OPERATIONS = parseMonitoringOperation.names;
