import { SipAnswer } from '@sbc/service';

/**
 * An INVITE that ends before a call is connected, with the SIP answer it gets. Each failure kind is
 * its own class so its status code and X-Reason text are decided here, once.
 */

/** What became of an INVITE (the `outcome` label of `sbc_invites_total`). */
export type InviteOutcome =
  | 'connected'
  | 'challenged'
  | 'rejected'
  | 'not_found'
  | 'limited'
  | 'unavailable'
  | 'failed'
  | 'canceled'
  | 'error';

/** An INVITE's deliberate answer (@sbc/service's SipAnswer) with the outcome it counts as. */
export abstract class InboundAnswer extends SipAnswer {
  abstract readonly outcome: InviteOutcome;
}

/** 404 "Number Not Provisioned": a carrier we know, a number it may not route (jambonz's text). */
export class NumberNotProvisionedError extends InboundAnswer {
  override readonly name = 'NumberNotProvisionedError';
  readonly status = 404;
  readonly outcome = 'not_found';
  readonly reason = 'number_not_provisioned';
  override readonly reasonPhrase = 'Number Not Provisioned';
}

/** 404: the Request-URI host is no account's SIP realm (device calls), or another account's on a dedicated SBC. */
export class UnknownRealmError extends InboundAnswer {
  override readonly name = 'UnknownRealmError';
  readonly status = 404;
  readonly outcome = 'not_found';
  readonly reason = 'unknown_realm';
  constructor(readonly realm: string) {
    super(`no account with SIP realm ${realm}`);
  }
}

/** 404: a Microsoft Teams tenant without an application (jambonz's X-Reason). */
export class TeamsTenantUnknownError extends InboundAnswer {
  override readonly name = 'TeamsTenantUnknownError';
  readonly status = 404;
  readonly outcome = 'not_found';
  readonly reason = 'teams_no_application';
  override readonly xReason = 'no configured application';
}

/** 404: a SIPREC INVITE for an account without `siprec_hook_sid`. */
export class NoSiprecApplicationError extends InboundAnswer {
  override readonly name = 'NoSiprecApplicationError';
  readonly status = 404;
  readonly outcome = 'not_found';
  readonly reason = 'siprec_no_application';
  override readonly xReason = 'no siprec application configured for this account';
}

/** The 503 ambiguity answers of jambonz's classification, each with its X-Reason text. */
export type AmbiguityKind = keyof typeof AMBIGUITY_TEXTS;

const AMBIGUITY_TEXTS = {
  realm_carriers:
    'Multiple carriers with the same gateway are attempting to route the same number for this account',
  registration_carriers: 'Multiple gateways match registration carrier source address',
  same_number: 'Multiple accounts are attempting to route the same phone number from the same carrier',
  default_route: 'Multiple accounts are attempting to default route this carrier',
} as const;

export class AmbiguousRouteError extends InboundAnswer {
  override readonly name = 'AmbiguousRouteError';
  readonly status = 503;
  readonly outcome = 'rejected';
  readonly reason: string;
  override readonly xReason: string;
  constructor(readonly kind: AmbiguityKind) {
    super(AMBIGUITY_TEXTS[kind]);
    this.reason = `ambiguous_${kind}`;
    this.xReason = AMBIGUITY_TEXTS[kind];
  }
}

/** 503: the account exists but is not active (jambonz's X-Reason). */
export class InactiveAccountError extends InboundAnswer {
  override readonly name = 'InactiveAccountError';
  readonly status = 503;
  readonly outcome = 'rejected';
  readonly reason = 'inactive_account';
  override readonly xReason = 'Account exists but is inactive';
}

/** 482: the call carries the X-Application-Sid it would be routed to (it came back from our platform). */
export class LoopDetectedError extends InboundAnswer {
  override readonly name = 'LoopDetectedError';
  readonly status = 482;
  readonly outcome = 'rejected';
  readonly reason = 'loop';
  override readonly reasonPhrase = 'Loop Detected on x-application-sid';
}

/** 503 + Retry-After: a dependency (MySQL, Redis, auth hook) failed; the caller may try again. */
export class DependencyUnavailableError extends InboundAnswer {
  override readonly name = 'DependencyUnavailableError';
  readonly status = 503;
  readonly outcome = 'unavailable';
  constructor(
    readonly reason: string,
    readonly retryAfterSeconds: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}
