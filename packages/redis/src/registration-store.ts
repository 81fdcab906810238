import type { Redis } from 'ioredis';
import {
  RedisArgumentError,
  RedisDataError,
  RedisUnavailableError,
  execResult,
  guard,
  toRedisError,
} from './errors.js';
import { ACTIVE_USER_KEY, registrationKey } from './keys.js';
import { LuaScript } from './script.js';

/** A webhook as the auth hook may return it: a URL, or an object with url/method/credentials. */
export type RegistrationHook = string | Record<string, unknown>;

/**
 * The JSON stored under `user:<user>@<realm>`, field for field as jambonz's sbc-sip-sidecar writes
 * it (feature servers, sbc-outbound and the api-server read it). Keys are serialised in this order;
 * undefined fields are omitted, as JSON.stringify does in jambonz.
 */
export interface RegistrationRecord {
  /** Contact URI of the registering UA. */
  contact: string;
  /** Listen address (hostport) of the engine that received the REGISTER. */
  sbcAddress: string;
  /** Private `ip:port` of that SBC, for cross-SBC 302 redirects. */
  privateSbcAddress?: string;
  /** Transport from the Via ('udp' | 'tcp' | 'ws' | 'wss'); jambonz leaves TLS undefined. */
  protocol?: string;
  /** `sip:<source_ip>:<source_port>`: where requests to this user are sent (NAT binding). */
  proxy: string;
  callHook?: RegistrationHook;
  callStatusHook?: RegistrationHook;
  allow_direct_app_calling: boolean;
  allow_direct_queue_calling: boolean;
  allow_direct_user_calling: boolean;
  /** Epoch ms at which the registration expires: now + granted expires * 1000. */
  expiryTime: number;
}

/** What the registrar knows about a binding; `add` computes `expiryTime`. */
export type RegistrationBinding = Omit<
  RegistrationRecord,
  'expiryTime' | 'allow_direct_app_calling' | 'allow_direct_queue_calling' | 'allow_direct_user_calling'
> & {
  allow_direct_app_calling?: boolean;
  allow_direct_queue_calling?: boolean;
  allow_direct_user_calling?: boolean;
};

export interface RegisteredUser {
  /** `user@realm`. */
  aor: string;
  record: RegistrationRecord;
}

const SCAN_COUNT = 100;

/**
 * How many replicas must hold a binding before `add` resolves (Redis `WAIT numreplicas timeout`).
 * Redis replication is asynchronous: without this, a primary killed after storing a binding and
 * before replicating it loses a binding the phone was told is there.
 */
export interface RegistrationDurability {
  /** Replicas that must acknowledge each stored binding; 0 (default): no WAIT (jambonz). */
  minReplicas?: number;
  /** Longest WAIT (ms) before `add` gives up with `RedisNotDurableError` (default 500). */
  replicaWaitMs?: number;
}

/**
 * The binding was written on the primary but fewer than `minReplicas` replicas acknowledged it in
 * time (or the connection failed while waiting): it must not be reported as stored. A kind of
 * `RedisUnavailableError`, so callers answering "try later" on an unavailable Redis do so here too.
 */
export class RedisNotDurableError extends RedisUnavailableError {
  override readonly name = 'RedisNotDurableError';
  constructor(
    message: string,
    readonly acknowledged: number,
    readonly wanted: number,
  ) {
    super(message);
  }
}

/**
 * SET user:<aor> + ZADD active-user, atomically. A script rather than MULTI: ioredis sends a script
 * call in the same write as the other commands of the tick (auto-pipelining), a MULTI on its own.
 */
const STORE_BINDING = new LuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
return 1`);

/** Re-writes `user:<aor>` with its value and TTL unchanged, so a WAIT after it covers that value. */
const REAFFIRM_BINDING = new LuaScript(`
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
redis.call('SET', KEYS[1], value, 'KEEPTTL')
return 1`);

/**
 * Registrations: `user:<aor>` (JSON, TTL = granted expires) plus the `active-user` sorted set
 * (score = expiryTime ms, member `user:<aor>`) used to list and count them. One AOR holds one
 * binding; the last REGISTER wins (jambonz semantics).
 *
 * With `minReplicas` > 0, bindings are written on a connection of their own (`client.duplicate()`)
 * followed by `WAIT minReplicas replicaWaitMs`: WAIT blocks the connection it is sent on, so the
 * other commands of the app never queue behind it, and one WAIT covers every write sent before it
 * on that connection, so concurrent `add`s share it (at most one WAIT in flight; while replicas are
 * missing an `add` takes at most two `replicaWaitMs`, whatever the load). Call `close()` at the end.
 */
export class RegistrationStore {
  readonly minReplicas: number;
  readonly replicaWaitMs: number;
  private readonly writer: Redis;
  /** The WAIT sent and not yet answered: it covers every write answered before it. */
  private inflightWait: Promise<number> | undefined;
  /**
   * Connections the writer made so far. WAIT only covers writes made on the connection it is sent
   * on, and ioredis re-sends unanswered commands on the next connection after a reconnection (a
   * demoted primary's READONLY, a failover): a WAIT re-sent there, to the new primary, answers for
   * nothing written on the old one. A write is durable only if the writer did not reconnect
   * between its answer and its WAIT's answer.
   */
  private connection = 0;

  constructor(
    private readonly client: Redis,
    durability: RegistrationDurability = {},
  ) {
    const minReplicas = durability.minReplicas ?? 0;
    const replicaWaitMs = durability.replicaWaitMs ?? 500;
    if (!Number.isInteger(minReplicas) || minReplicas < 0)
      throw new RedisArgumentError(`minReplicas must be a non-negative integer, got ${minReplicas}`);
    if (!Number.isInteger(replicaWaitMs) || replicaWaitMs <= 0)
      throw new RedisArgumentError(`replicaWaitMs must be a positive integer, got ${replicaWaitMs}`);
    this.minReplicas = minReplicas;
    this.replicaWaitMs = replicaWaitMs;
    if (minReplicas > 0) {
      // Queue commands until the first connection attempt, then fail fast while disconnected, as
      // createRedisClient does (duplicate() copies the options as they are now, queue off).
      const writer = client.duplicate({ enableOfflineQueue: true });
      const stopQueueing = (): void => {
        writer.options.enableOfflineQueue = false;
      };
      writer.once('ready', stopQueueing);
      writer.once('error', stopQueueing);
      // Failures reach the callers as rejected commands; the client's own listener logs outages.
      writer.on('error', () => undefined);
      writer.on('connect', () => {
        this.connection++;
      });
      this.writer = writer;
    } else {
      this.writer = client;
    }
  }

  /** True when stored bindings are acknowledged by replicas before `add` resolves. */
  get waitsForReplicas(): boolean {
    return this.minReplicas > 0;
  }

  /** Closes the binding writer's own connection (with `minReplicas` > 0); the client is the caller's. */
  close(): void {
    if (this.writer !== this.client) this.writer.disconnect();
  }

  /** Stores the binding for `aor` (`user@realm`) for `expiresSeconds`; both keys in one atomic script. */
  async add(
    aor: string,
    binding: RegistrationBinding,
    expiresSeconds: number,
    nowMs: number = Date.now(),
  ): Promise<RegistrationRecord> {
    checkAor(aor);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds <= 0) {
      throw new RedisArgumentError(`expiresSeconds must be a positive integer, got ${expiresSeconds}`);
    }
    const record = toRecord(binding, nowMs + expiresSeconds * 1000);
    const key = registrationKey(aor);
    await guard(this.client, () =>
      STORE_BINDING.run(
        this.writer,
        [key, ACTIVE_USER_KEY],
        [JSON.stringify(record), expiresSeconds, record.expiryTime],
      ),
    );
    await this.replicated(key, this.connection);
    return record;
  }

  /**
   * With `minReplicas` > 0: makes sure the binding now stored for `aor` is on enough replicas (it is
   * re-written unchanged, value and TTL, then WAITed for), for a caller that answers from a stored
   * binding without storing it (jambonz's cached refresh). Resolves false when `aor` has no binding.
   * Without `minReplicas`: only tells whether there is one.
   */
  async reaffirm(aor: string): Promise<boolean> {
    const key = registrationKey(aor);
    if (!this.waitsForReplicas) return (await guard(this.client, () => this.client.exists(key))) === 1;
    const found = await guard(this.client, () => REAFFIRM_BINDING.run(this.writer, [key], []));
    if (found !== 1) return false;
    await this.replicated(key, this.connection);
    return true;
  }

  /**
   * WAITs for `minReplicas` to hold every write answered so far on the writer connection; `written`
   * is the connection the write was answered on.
   */
  private async replicated(key: string, written: number): Promise<void> {
    if (!this.waitsForReplicas) return;
    // A WAIT still unanswered was sent after our write was answered (replies come in order), so
    // it covers our write: share it. Otherwise send one.
    let wait = this.inflightWait;
    if (!wait) {
      const sent = this.writer.wait(this.minReplicas, this.replicaWaitMs);
      wait = sent;
      this.inflightWait = sent;
      const clear = () => {
        if (this.inflightWait === sent) this.inflightWait = undefined;
      };
      sent.then(clear, clear);
    }
    let acknowledged: number;
    try {
      acknowledged = await wait;
    } catch (err) {
      const cause = toRedisError(err);
      throw new RedisNotDurableError(
        `${key} written but not confirmed on ${this.minReplicas} replica(s): ${cause.message}`,
        0,
        this.minReplicas,
      );
    }
    if (this.connection !== written) {
      throw new RedisNotDurableError(
        `${key} written on a Redis connection that has since been replaced: its WAIT does not cover it`,
        0,
        this.minReplicas,
      );
    }
    if (acknowledged < this.minReplicas) {
      throw new RedisNotDurableError(
        `${key} reached ${acknowledged} of ${this.minReplicas} replica(s) within ${this.replicaWaitMs} ms`,
        acknowledged,
        this.minReplicas,
      );
    }
  }

  /** The record for `aor`, or null when not registered (expired or removed). */
  async get(aor: string): Promise<RegistrationRecord | null> {
    const key = registrationKey(aor);
    const raw = await guard(this.client, () => this.client.get(key));
    return raw === null ? null : parseRecord(key, raw);
  }

  /** Unregister: deletes `user:<aor>` and its `active-user` entry. True when it was registered. */
  async remove(aor: string): Promise<boolean> {
    const key = registrationKey(aor);
    const results = await guard(this.client, () =>
      this.client.multi().del(key).zrem(ACTIVE_USER_KEY, key).exec(),
    );
    return execResult(this.client, results, 0) === 1;
  }

  /** User parts of the unexpired registrations in `realm` (exact realm match). */
  async listUsers(realm: string, nowMs: number = Date.now()): Promise<string[]> {
    const keys = await this.activeKeys(realm, nowMs);
    return keys.map((key) => userPart(key, realm));
  }

  /** Unexpired registrations in `realm` with their records. */
  async listRegistrations(realm: string, nowMs: number = Date.now()): Promise<RegisteredUser[]> {
    const keys = await this.activeKeys(realm, nowMs);
    if (keys.length === 0) return [];
    const values = await guard(this.client, () => this.client.mget(...keys));
    const out: RegisteredUser[] = [];
    keys.forEach((key, i) => {
      const raw = values[i];
      if (raw === null || raw === undefined) return; // expired between ZSCAN and MGET
      out.push({ aor: key.slice('user:'.length), record: parseRecord(key, raw) });
    });
    return out;
  }

  /** Number of unexpired registrations, in `realm` or in all realms. */
  async count(realm?: string, nowMs: number = Date.now()): Promise<number> {
    if (realm === undefined) {
      return guard(this.client, () => this.client.zcount(ACTIVE_USER_KEY, `(${nowMs}`, '+inf'));
    }
    return (await this.activeKeys(realm, nowMs)).length;
  }

  /** ZREMRANGEBYSCORE active-user -inf now: drops expired entries. Resolves with how many. */
  async purgeExpired(nowMs: number = Date.now()): Promise<number> {
    return guard(this.client, () => this.client.zremrangebyscore(ACTIVE_USER_KEY, '-inf', nowMs));
  }

  private async activeKeys(realm: string, nowMs: number): Promise<string[]> {
    if (realm.length === 0) throw new RedisArgumentError('realm must not be empty');
    const pattern = `user:*@${escapeGlob(realm)}`;
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, flat] = await guard(this.client, () =>
        this.client.zscan(ACTIVE_USER_KEY, cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
      );
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const member = flat[i];
        const score = Number(flat[i + 1]);
        if (member !== undefined && score > nowMs) keys.add(member);
      }
      cursor = next;
    } while (cursor !== '0');
    return [...keys];
  }
}

function toRecord(binding: RegistrationBinding, expiryTime: number): RegistrationRecord {
  return {
    contact: binding.contact,
    sbcAddress: binding.sbcAddress,
    privateSbcAddress: binding.privateSbcAddress,
    protocol: binding.protocol,
    proxy: binding.proxy,
    callHook: binding.callHook,
    callStatusHook: binding.callStatusHook,
    allow_direct_app_calling: binding.allow_direct_app_calling ?? false,
    allow_direct_queue_calling: binding.allow_direct_queue_calling ?? false,
    allow_direct_user_calling: binding.allow_direct_user_calling ?? false,
    expiryTime,
  };
}

function parseRecord(key: string, raw: string): RegistrationRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new RedisDataError(`${key} does not hold JSON`, key);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RedisDataError(`${key} does not hold a registration object`, key);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.contact !== 'string' || typeof record.expiryTime !== 'number') {
    throw new RedisDataError(`${key} lacks contact or expiryTime`, key);
  }
  return {
    ...record,
    // jambonz may store 0/1 from the clients table; readers only test truthiness.
    allow_direct_app_calling: Boolean(record.allow_direct_app_calling),
    allow_direct_queue_calling: Boolean(record.allow_direct_queue_calling),
    allow_direct_user_calling: Boolean(record.allow_direct_user_calling),
  } as RegistrationRecord;
}

function checkAor(aor: string): void {
  const at = aor.lastIndexOf('@');
  if (at <= 0 || at === aor.length - 1)
    throw new RedisArgumentError(`address of record must be user@realm, got '${aor}'`);
}

function userPart(key: string, realm: string): string {
  return key.slice('user:'.length, key.length - realm.length - 1);
}

/** Escapes Redis glob metacharacters so a realm matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
