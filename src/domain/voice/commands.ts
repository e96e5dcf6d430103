/**
 * The voice operations' parameters, as TypeBox schemas in the order capabilities are listed (the
 * seed's order first, then the rest). The typed operations are derived from this table.
 */
import Type, { type Static } from 'typebox';
import { operationParser, type OperationOf, type Parsed } from '../commands/parse.js';

const UserDataSchema = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number()]));
export const DestinationParams = Type.Object({
  operationName: Type.String(),
  destination: Type.Object({ phoneNumber: Type.String({ minLength: 1, maxLength: 64 }) }),
  location: Type.Optional(Type.String({ maxLength: 256 })),
  userData: Type.Optional(UserDataSchema),
});
export type DestinationParams = Static<typeof DestinationParams>;
const NoParams = Type.Object({ operationName: Type.String() });
const CompleteParams = Type.Object({
  operationName: Type.String(),
  consultCallUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
});
const SwapParams = Type.Object({
  operationName: Type.String(),
  otherCallUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
});
const RemoveParams = Type.Object({
  operationName: Type.String(),
  participant: Type.String({ minLength: 1, maxLength: 64 }),
});
const DtmfParams = Type.Object({
  operationName: Type.String(),
  digits: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9*#A-Da-d]+$' }),
});
const DispositionParams = Type.Object({
  operationName: Type.String(),
  callUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  callUuid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  disposition: Type.String({ minLength: 1, maxLength: 4096 }),
  dispositionKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});
const UserDataParams = Type.Object({ operationName: Type.String(), userData: UserDataSchema });
const DeletePairParams = Type.Object({ operationName: Type.String(), key: Type.String({ minLength: 1, maxLength: 256 }) });

/** POST /api/v2/me/calls/{id}: every operation, in the order capabilities list them. */
export const VOICE_CALL_SCHEMAS = {
  UpdateUserData: UserDataParams,
  SendDtmf: DtmfParams,
  InitiateConference: DestinationParams,
  Hold: NoParams,
  SingleStepTransfer: DestinationParams,
  InitiateTransfer: DestinationParams,
  AttachUserData: UserDataParams,
  DeleteUserDataPair: DeletePairParams,
  SingleStepConference: DestinationParams,
  DeleteUserData: NoParams,
  Hangup: NoParams,
  Answer: NoParams,
  Reject: NoParams,
  Retrieve: NoParams,
  CompleteConference: CompleteParams,
  CompleteTransfer: CompleteParams,
  SwapCalls: SwapParams,
  RemoveParticipantFromConference: RemoveParams,
  ClearCall: NoParams,
  MuteCall: NoParams,
  UnmuteCall: NoParams,
  SwitchToListenIn: NoParams,
  SwitchToCoach: NoParams,
  SwitchToBargeIn: NoParams,
  MuteMonitoredUser: NoParams,
  UnmuteMonitoredUser: NoParams,
  // The recording operations come last: the CallRecording samples list them after the rest.
  StartCallRecording: NoParams,
  PauseCallRecording: NoParams,
  ResumeCallRecording: NoParams,
  StopCallRecording: NoParams,
  SetCallDisposition: DispositionParams,
} as const;
export type VoiceCallSchemas = typeof VOICE_CALL_SCHEMAS;
export type VoiceCallOperation = keyof VoiceCallSchemas;
export type VoiceParams<K extends VoiceCallOperation> = Static<VoiceCallSchemas[K]>;
/** A typed voice call operation. */
export type VoiceOperation = OperationOf<VoiceCallSchemas>;
export type ParsedVoiceOperation = Parsed<VoiceCallSchemas>;
export const parseVoiceOperation = operationParser('a call', VOICE_CALL_SCHEMAS);
export const VOICE_CALL_OPERATIONS = parseVoiceOperation.names;

/** POST /api/v2/me/devices/{id}/calls: Dial, the one voice operation that creates a call. */
export const DEVICE_CALL_SCHEMAS = { Dial: DestinationParams } as const;
export type DialOperation = OperationOf<typeof DEVICE_CALL_SCHEMAS>;
export type ParsedDialOperation = Parsed<typeof DEVICE_CALL_SCHEMAS>;
export const parseDialOperation = operationParser(`a device's calls`, DEVICE_CALL_SCHEMAS);
