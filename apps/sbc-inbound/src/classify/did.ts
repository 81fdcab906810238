import { matchPhoneNumbers, type Db, type PhoneNumberMatch } from '@sbc/db';

/** The phone_numbers rows of some carriers that route a DID, split as jambonz uses them. */
export interface DidMatches {
  /** Rows whose number is the DID itself. */
  exact: PhoneNumberMatch[];
  /** Matching `prefix*` wildcards and regular expressions, longest number first (jambonz's order). */
  patterns: PhoneNumberMatch[];
}

/**
 * The numbers of `voipCarrierSids` (and of `accountSid`, when given) that route `did`. No SQL is
 * built from the DID, and a row that is not a valid regular expression is ignored (sbc-inbound #201).
 */
export async function matchDid(
  db: Db,
  did: string,
  voipCarrierSids: readonly string[],
  accountSid?: string,
): Promise<DidMatches> {
  const matches = await matchPhoneNumbers(db, did, {
    voipCarrierSids,
    ...(accountSid !== undefined ? { accountSid } : {}),
  });
  const exact = matches.filter((m) => m.match === 'exact');
  // jambonz tries every non-digit row by length, wildcards and regexes alike (stable sort keeps
  // @sbc/db's order, wildcards first, on a tie).
  const patterns = matches
    .filter((m) => m.match !== 'exact')
    .sort((a, b) => b.number.length - a.number.length);
  return { exact, patterns };
}

/** The row that routes the DID on one carrier: an exact number, else the best pattern. */
export function bestNumber(matches: DidMatches): PhoneNumberMatch | undefined {
  return matches.exact[0] ?? matches.patterns[0];
}
