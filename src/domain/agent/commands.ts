/** The agent's own operations' parameters (session, channels, monitoring), as schema tables. */
import Type from 'typebox';
import { operationParser, type Parsed } from '../commands/parse.js';
import { CHANNELS } from './model.js';

const NoParams = Type.Object({ operationName: Type.String() });

/** POST /api/v2/me */
export const SESSION_SCHEMAS = {
  StartContactCenterSession: Type.Object({
    operationName: Type.String(),
    channels: Type.Optional(Type.Array(Type.Enum(CHANNELS), { minItems: 1, maxItems: 2, uniqueItems: true })),
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

const MonitorParams = Type.Object({
  operationName: Type.String(),
  targetDeviceUri: Type.String({ minLength: 1, maxLength: 2048 }),
  supervisorMonitoringScope: Type.Optional(Type.Enum(['Agent', 'Call'])),
  supervisorMonitoringMode: Type.Optional(Type.Enum(['NextCall', 'AllCalls'])),
});
/** POST /api/v2/me/devices/{id}: supervisor monitoring on the supervisor's own device. */
export const MONITORING_SCHEMAS = { ListenIn: MonitorParams, Coach: MonitorParams, BargeIn: MonitorParams, CancelSupervisorMonitoring: NoParams } as const;
export type ParsedMonitoringOperation = Parsed<typeof MONITORING_SCHEMAS>;
export const parseMonitoringOperation = operationParser('a device', MONITORING_SCHEMAS);
export const MONITORING_OPERATIONS = parseMonitoringOperation.names;
