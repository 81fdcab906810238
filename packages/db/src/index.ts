export { createDb, type Db, type DbOptions, type DbTlsOptions, type SqlRunner, type SqlValue } from './db.js';
export {
  DbError,
  DbUnavailableError,
  DbQueryError,
  DbDataError,
  DbConfigError,
  AmbiguousPhoneNumberError,
  isConnectionFailure,
} from './errors.js';
export { schemaSql, schemaPath, SCHEMA_TABLES, type SchemaTable } from './schema.js';
export { encryptPassword, decryptPassword, type PasswordCipherOptions } from './crypto.js';
export type * from './types.js';

export { lookupAccountBySipRealm, lookupAccountBySid, superDomainOf } from './queries/accounts.js';
export { lookupAuthHook, rootDomainOf, type AuthHook } from './queries/auth.js';
export { lookupClientByAccountAndUsername } from './queries/clients.js';
export {
  lookupCarrierBySid,
  lookupAllVoipCarriers,
  lookupCarriersRequiringRegistration,
  lookupCarriersByRegistration,
  lookupAuthTrunks,
  updateCarrierRegisterStatus,
  parseRegisterStatus,
  updateVoipCarrier,
  type RegistrationCarrier,
  type RegisterStatus,
  type VoipCarrierUpdate,
} from './queries/carriers.js';
export {
  lookupSipGatewaysByCarrier,
  lookupInboundGateways,
  lookupSipGatewayBySignalingAddress,
  lookupGatewaysForOptionsPing,
  rankGatewayMatches,
  updateSipGateway,
  type InboundGatewayScope,
  type SipGatewayUpdate,
} from './queries/gateways.js';
export {
  matchPhoneNumbers,
  lookupPhoneNumber,
  type PhoneNumberMatch,
  type PhoneNumberMatchKind,
  type PhoneNumberScope,
} from './queries/numbers.js';
export { lookupAppBySid, lookupTeamsTenant } from './queries/applications.js';
export {
  addSbcAddress,
  cleanSbcAddresses,
  listSbcAddresses,
  type SbcAddressInput,
} from './queries/sbc-addresses.js';
export { lookupSystemInformation } from './queries/system-info.js';
export { lookupSoleAccountOfServiceProvider } from './queries/service-providers.js';
export {
  lookupAccountCapacities,
  lookupCallLimits,
  lookupDeviceLimit,
  deviceLimitFromCapacities,
  type CallLimits,
} from './queries/limits.js';

export * from './seed/seed.js';
export { seedDemo, type DemoData, type DemoOptions } from './seed/demo.js';
