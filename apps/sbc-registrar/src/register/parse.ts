/**
 * Step 1: what the REGISTER asks for (jambonz's rejectIpv4 + drachtio-mw-registration-parser + the
 * AOR part of checkCache), with RFC 3261 §10.3's wildcard rule added.
 */
import { isIpLiteral, parseContactList, parseSipUri, tryParseNameAddr } from '@sbc/sip';
import {
  ContactRequiredError,
  ExpiresRequiredError,
  InvalidAorError,
  InvalidContactError,
  RealmRequiredError,
} from './errors.js';

export interface Registration {
  /** `unregister` when the requested expiry is 0. */
  type: 'register' | 'unregister';
  /** Requested expiry in seconds: the first Contact's `expires` parameter, else the `Expires` header. */
  expires: number;
  /** The Contact header as received. */
  contact: string;
  /** The first Contact's URI (`*` for the wildcard). */
  contactUri: string;
  /** `Contact: *` with `Expires: 0`: remove every binding of the AOR. */
  wildcard: boolean;
  /** `user@host` of the To URI: the key of the binding. */
  aor: string;
  user: string;
  /** The AOR host: the realm we challenge for and look the account up by. */
  realm: string;
}

/** The parts of a SIP request this step reads. */
export interface RegisterMessage {
  uri: string;
  get(name: string): string | undefined;
}

const MAX_EXPIRES = 2 ** 31 - 1;

function parseSeconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) > MAX_EXPIRES) {
    throw new ExpiresRequiredError(`${what} is not a number of seconds`);
  }
  return Number(trimmed);
}

/** Parses and checks a REGISTER; throws the `RegisterAnswer` it must get otherwise. */
export function parseRegister(req: RegisterMessage): Registration {
  const requestUri = parseSipUri(req.uri);
  if (!requestUri || isIpLiteral(requestUri.host)) throw new RealmRequiredError();

  const contact = req.get('Contact')?.trim();
  if (!contact) throw new ContactRequiredError();
  const contacts = parseContactList(contact);
  if (!contacts) throw new InvalidContactError('Contact header cannot be parsed');
  const [first] = contacts as [(typeof contacts)[number], ...typeof contacts];

  const expires =
    parseSeconds(first.params.get('expires') ?? undefined, 'Contact expires parameter') ??
    parseSeconds(req.get('Expires'), 'Expires header');
  if (expires === undefined) {
    throw new ExpiresRequiredError('Expires header or Contact expires parameter is required');
  }

  const wildcard = contacts.some((c) => c.uri === '*');
  if (wildcard && (contacts.length > 1 || expires !== 0)) {
    throw new InvalidContactError('Contact: * needs Expires: 0 and no other Contact (RFC 3261 10.3)');
  }

  const to = tryParseNameAddr(req.get('To') ?? '');
  const aorUri = to ? parseSipUri(to.uri) : undefined;
  if (!aorUri?.user) throw new InvalidAorError();

  return {
    type: expires === 0 ? 'unregister' : 'register',
    expires,
    contact,
    contactUri: first.uri,
    wildcard,
    aor: `${aorUri.user}@${aorUri.host}`,
    user: aorUri.user,
    realm: aorUri.host,
  };
}
