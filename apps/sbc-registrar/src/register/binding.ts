/**
 * Step 5: store or remove the binding (jambonz's register handler). The answer is sent only after
 * Redis confirmed the write, so a 200 always means the binding is there.
 */
import type { AuthGrant } from '@sbc/auth-hook';
import type { RegistrationRecord, RegistrationStore } from '@sbc/redis';
import { redisDown } from './failures.js';
import type { Registration } from './parse.js';

/** Where the REGISTER came from and through which engine. */
export interface BindingSource {
  address: string;
  port: number;
  /** Transport it arrived on: udp, tcp, tls, ws, wss. */
  protocol: string;
  /** `req.server.hostport`: the engine's SIP addresses (what sbc-outbound compares to find the SBC). */
  sbcAddress: string;
  /** This SBC's private `ip:port` (tcp, inside JAMBONES_NETWORK_CIDR), for cross-SBC 302 redirects. */
  privateSbcAddress: string | undefined;
}

export interface Expiry {
  /** Seconds granted: the hook's `expires` when given and not above the request, else the request. */
  granted: number;
  /** Seconds told to the UA: NAT_EXPIRES for UDP when granted is longer, else granted. */
  returned: number;
}

/** jambonz §3.3: granted = hook expires (if any, capped at the request); UDP clients are told 30 s. */
export function negotiateExpires(
  requested: number,
  grant: AuthGrant,
  protocol: string,
  natExpires: number,
): Expiry {
  const granted = grant.expires && grant.expires <= requested ? grant.expires : requested;
  const returned = protocol === 'udp' && granted > natExpires ? natExpires : granted;
  return { granted, returned };
}

/** Stores `user:<aor>` (TTL = granted) and its `active-user` entry. */
export async function storeBinding(
  store: RegistrationStore,
  registration: Registration,
  grant: AuthGrant,
  source: BindingSource,
  expiry: Expiry,
  options: { retryAfterSeconds: number; now: number },
): Promise<RegistrationRecord> {
  try {
    return await store.add(
      registration.aor,
      {
        contact: registration.contactUri,
        sbcAddress: source.sbcAddress,
        privateSbcAddress: source.privateSbcAddress,
        protocol: source.protocol,
        proxy: `sip:${source.address}:${source.port}`,
        callHook: grant.call_hook,
        callStatusHook: grant.call_status_hook,
        allow_direct_app_calling: grant.allow_direct_app_calling ?? false,
        allow_direct_queue_calling: grant.allow_direct_queue_calling ?? false,
        allow_direct_user_calling: grant.allow_direct_user_calling ?? false,
      },
      expiry.granted,
      options.now,
    );
  } catch (err) {
    throw redisDown(err, options.retryAfterSeconds);
  }
}

/** Un-REGISTER (Expires 0, or `Contact: *`): deletes `user:<aor>` and its `active-user` entry. */
export async function removeBinding(
  store: RegistrationStore,
  registration: Registration,
  options: { retryAfterSeconds: number },
): Promise<boolean> {
  try {
    return await store.remove(registration.aor);
  } catch (err) {
    throw redisDown(err, options.retryAfterSeconds);
  }
}
