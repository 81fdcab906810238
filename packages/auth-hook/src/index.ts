export { DigestParseError, AuthOptionError, type DigestParseFailure } from './errors.js';
export { parseDigestCredentials, nonceCountOf, type DigestCredentials } from './digest-credentials.js';
export {
  computeDigestResponse,
  verifyDigestResponse,
  digestsEqual,
  parseDigestAlgorithm,
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  type DigestResponseInput,
} from './digest-response.js';
export {
  buildDigestChallenge,
  buildDigestChallenges,
  quoteString,
  type DigestChallengeInput,
} from './digest-challenge.js';
export { NonceManager, type NonceOptions, type NonceCheck } from './nonce.js';
export { NO_QOP_NONCE_COUNT, type ReplayGuard } from './replay-guard.js';
export {
  buildAuthHookPayload,
  toQueryString,
  jambonzSignature,
  type AuthHookRequestInput,
  type AuthHookPayload,
} from './hook-request.js';
export {
  parseAuthHookAnswer,
  type AuthGrant,
  type AuthHookAnswer,
  type HookReference,
} from './hook-answer.js';
export {
  callAuthHook,
  type AuthHookTarget,
  type CallAuthHookOptions,
  type AuthHookResult,
  type AuthHookOutcome,
} from './hook-client.js';
export { verifyClientCredentials, type ClientRow, type LocalCredentialsResult } from './local-credentials.js';
export {
  authenticateRequest,
  type AuthenticateRequestInput,
  type AuthenticateOptions,
  type AuthenticateResult,
  type AuthTrunk,
  type CredentialSource,
  type ChallengeReason,
  type ForbiddenReason,
  type UnavailableCause,
} from './authenticate.js';
export {
  authenticateSipRequest,
  prefetchReplayClaim,
  type DigestAlertType,
  type DigestLog,
  type DigestObserver,
  type NonceRejection,
  type SipDigestContext,
  type SipDigestMessage,
  type SipDigestOptions,
  type SipDigestRefusal,
  type SipDigestResult,
  type SipDigestSuccess,
  type SipDigestTarget,
} from './sip-digest.js';
