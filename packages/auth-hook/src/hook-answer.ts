/** A webhook as jambonz describes one in a grant (`call_hook` may be a URL or a webhook object). */
export type HookReference =
  string | { url: string; method?: string; username?: string; password?: string; [extra: string]: unknown };

/** What a successful authentication grants (the jambonz hook answer fields; reference §2.4). */
export interface AuthGrant {
  /** Granted REGISTER expiry in seconds. */
  expires?: number;
  call_hook?: HookReference;
  call_status_hook?: HookReference;
  allow_direct_app_calling?: boolean;
  allow_direct_queue_calling?: boolean;
  allow_direct_user_calling?: boolean;
  /** INVITE: the application to run (becomes X-Application-Sid). */
  application_sid?: string;
  msg?: string;
}

/** The hook's decision once its JSON has been checked. */
export type AuthHookAnswer =
  | { kind: 'ok'; grant: AuthGrant; answer: Readonly<Record<string, unknown>> }
  | {
      kind: 'fail';
      msg?: string;
      /** The hook flags the source as a spammer (jambonz: X-Reason "detected potential spammer"). */
      blacklist: boolean;
      /** Extra SIP headers for the 403. */
      headers: Readonly<Record<string, string>>;
      answer: Readonly<Record<string, unknown>>;
    }
  | { kind: 'garbage'; problem: string };

class AnswerProblem extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const present = (answer: Record<string, unknown>, key: string): boolean =>
  answer[key] !== undefined && answer[key] !== null;

function optionalString(answer: Record<string, unknown>, key: string): string | undefined {
  if (!present(answer, key)) return undefined;
  const value = answer[key];
  if (typeof value !== 'string') throw new AnswerProblem(`${key} is not a string`);
  return value;
}

/** Booleans; 0/1 are accepted too since jambonz stores these flags as TINYINT. */
function optionalFlag(answer: Record<string, unknown>, key: string): boolean | undefined {
  if (!present(answer, key)) return undefined;
  const value = answer[key];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new AnswerProblem(`${key} is not a boolean`);
}

/** A non-negative whole number of seconds; a digit string is accepted (jambonz used it as is). */
function optionalSeconds(answer: Record<string, unknown>, key: string): number | undefined {
  if (!present(answer, key)) return undefined;
  const value = answer[key];
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  throw new AnswerProblem(`${key} is not a whole number of seconds`);
}

function optionalHook(answer: Record<string, unknown>, key: string): HookReference | undefined {
  if (!present(answer, key)) return undefined;
  const value = answer[key];
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.url === 'string') {
    for (const field of ['method', 'username', 'password']) {
      if (value[field] !== undefined && value[field] !== null && typeof value[field] !== 'string') {
        throw new AnswerProblem(`${key}.${field} is not a string`);
      }
    }
    return value as HookReference;
  }
  throw new AnswerProblem(`${key} is neither a URL nor a webhook object`);
}

function sipHeaders(answer: Record<string, unknown>): Record<string, string> {
  if (!present(answer, 'headers')) return {};
  const value = answer.headers;
  if (!isObject(value)) throw new AnswerProblem('headers is not an object');
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
      throw new AnswerProblem(`header name ${name} is not a token`);
    if (typeof headerValue === 'number') headers[name] = String(headerValue);
    else if (typeof headerValue === 'string' && !/[\r\n\0]/.test(headerValue)) headers[name] = headerValue;
    else throw new AnswerProblem(`header ${name} is not a single-line string`);
  }
  return headers;
}

function grantOf(answer: Record<string, unknown>): AuthGrant {
  const grant: AuthGrant = {};
  const expires = optionalSeconds(answer, 'expires');
  if (expires !== undefined) grant.expires = expires;
  const callHook = optionalHook(answer, 'call_hook');
  if (callHook !== undefined) grant.call_hook = callHook;
  const callStatusHook = optionalHook(answer, 'call_status_hook');
  if (callStatusHook !== undefined) grant.call_status_hook = callStatusHook;
  for (const flag of [
    'allow_direct_app_calling',
    'allow_direct_queue_calling',
    'allow_direct_user_calling',
  ] as const) {
    const value = optionalFlag(answer, flag);
    if (value !== undefined) grant[flag] = value;
  }
  const applicationSid = optionalString(answer, 'application_sid');
  if (applicationSid !== undefined) grant.application_sid = applicationSid;
  const msg = optionalString(answer, 'msg');
  if (msg !== undefined) grant.msg = msg;
  return grant;
}

/**
 * Checks a hook's 200 body against the contract: a JSON object whose `status` is `ok` or `fail`
 * (case-insensitive) and whose known fields have their documented types. Unknown fields are kept
 * in `answer` and otherwise ignored. Anything else is `garbage`.
 */
export function parseAuthHookAnswer(body: string): AuthHookAnswer {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return { kind: 'garbage', problem: 'the body is not JSON' };
  }
  if (!isObject(answer)) return { kind: 'garbage', problem: 'the body is not a JSON object' };
  const status = answer.status;
  if (typeof status !== 'string') return { kind: 'garbage', problem: 'status is missing or not a string' };
  try {
    switch (status.toLowerCase()) {
      case 'ok':
        return { kind: 'ok', grant: grantOf(answer), answer };
      case 'fail': {
        const blacklist = optionalFlag(answer, 'blacklist') ?? false;
        const msg = optionalString(answer, 'msg');
        return {
          kind: 'fail',
          ...(msg !== undefined && { msg }),
          blacklist,
          headers: sipHeaders(answer),
          answer,
        };
      }
      default:
        return { kind: 'garbage', problem: `status ${JSON.stringify(status)} is neither ok nor fail` };
    }
  } catch (err) {
    if (err instanceof AnswerProblem) return { kind: 'garbage', problem: err.message };
    throw err;
  }
}
