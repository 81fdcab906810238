import type { Db, SqlValue } from '../db.js';
import { AmbiguousPhoneNumberError } from '../errors.js';
import type { PhoneNumber } from '../types.js';

const PHONE_NUMBER_COLUMNS =
  'pn.phone_number_sid, pn.number, pn.voip_carrier_sid, pn.account_sid, pn.application_sid, pn.service_provider_sid';

export type PhoneNumberMatchKind = 'exact' | 'wildcard' | 'regex';

export interface PhoneNumberMatch extends PhoneNumber {
  match: PhoneNumberMatchKind;
}

/** Which rows a lookup considers; both limits apply when both are given. */
export interface PhoneNumberScope {
  /** Numbers of these carriers only (an empty list matches nothing). */
  voipCarrierSids?: readonly string[];
  /** Numbers of this account only. */
  accountSid?: string;
}

/** A pattern row: `<digits>*` is a prefix wildcard, anything else with a non-digit a regular expression. */
type Pattern = { kind: 'wildcard'; prefix: string } | { kind: 'regex'; re: RegExp } | undefined;

function patternOf(number: string): Pattern {
  const wildcard = /^\+?(\d*)\*$/.exec(number);
  if (wildcard) return { kind: 'wildcard', prefix: wildcard[1] ?? '' };
  try {
    return { kind: 'regex', re: new RegExp(number) };
  } catch {
    // jambonz skips a row that is not a valid regular expression (sbc-inbound #201).
    return undefined;
  }
}

/**
 * Every phone_numbers row that routes the dialled number `did` (a leading `+` is ignored), best
 * first: exact matches, then `prefix*` wildcards (longest first), then regular expressions
 * (longest first; unanchored as jambonz uses them, so write `^…$` to anchor; invalid ones are
 * ignored).
 */
export async function matchPhoneNumbers(
  db: Db,
  did: string,
  scope: PhoneNumberScope = {},
  options: { onInvalidPattern?: (row: PhoneNumber) => void } = {},
): Promise<PhoneNumberMatch[]> {
  const digits = did.replace(/^\+/, '');
  const filters: string[] = [];
  const params: SqlValue[] = [];
  if (scope.voipCarrierSids) {
    if (scope.voipCarrierSids.length === 0) return [];
    filters.push('pn.voip_carrier_sid IN (?)');
    params.push([...scope.voipCarrierSids]);
  }
  if (scope.accountSid !== undefined) {
    filters.push('pn.account_sid = ?');
    params.push(scope.accountSid);
  }
  const scopeSql = filters.map((f) => ` AND ${f}`).join('');
  const [exact, patterns] = await Promise.all([
    db.cachedSelect<PhoneNumber>(
      `SELECT ${PHONE_NUMBER_COLUMNS} FROM phone_numbers pn WHERE pn.number = ?${scopeSql} ORDER BY pn.phone_number_sid`,
      [digits, ...params],
    ),
    db.cachedSelect<PhoneNumber>(
      `SELECT ${PHONE_NUMBER_COLUMNS} FROM phone_numbers pn WHERE pn.number REGEXP '[^0-9]'${scopeSql}`,
      params,
    ),
  ]);
  const byLengthDesc = [...patterns].sort(
    (a, b) => b.number.length - a.number.length || a.phone_number_sid.localeCompare(b.phone_number_sid),
  );
  const wildcards: PhoneNumberMatch[] = [];
  const regexes: PhoneNumberMatch[] = [];
  for (const row of byLengthDesc) {
    const pattern = patternOf(row.number);
    if (pattern === undefined) options.onInvalidPattern?.(row);
    if (pattern?.kind === 'wildcard' && digits.startsWith(pattern.prefix))
      wildcards.push({ ...row, match: 'wildcard' });
    if (pattern?.kind === 'regex' && pattern.re.test(digits)) regexes.push({ ...row, match: 'regex' });
  }
  return [...exact.map((row) => ({ ...row, match: 'exact' as const })), ...wildcards, ...regexes];
}

/**
 * The phone_numbers row that routes `did` (see `matchPhoneNumbers` for the order), or undefined.
 * Rejects with AmbiguousPhoneNumberError when several rows match exactly (the same number on
 * several carriers in scope), which jambonz answers with a 503.
 */
export async function lookupPhoneNumber(
  db: Db,
  did: string,
  scope: PhoneNumberScope = {},
): Promise<PhoneNumberMatch | undefined> {
  const matches = await matchPhoneNumbers(db, did, scope);
  const exact = matches.filter((m) => m.match === 'exact');
  if (exact.length > 1)
    throw new AmbiguousPhoneNumberError(
      did,
      exact.map((m) => m.phone_number_sid),
    );
  return matches[0];
}
