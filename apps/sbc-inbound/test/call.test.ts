import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccountLimit, seedClient, seedServiceProviderLimit, seedSubscription } from '@sbc/db';
import { rtpPackets, runSipp, waitUntil } from '@sbc/testkit';
import { RawCaller } from './support/raw-caller.js';
import {
  featureServerUp,
  JAMBONZ,
  JWT_SECRET,
  metricValue,
  placeCall,
  scenario,
  startFeatureServer,
  startInboundStack,
  useApp as useAppOf,
  type InboundStack,
} from './support/inbound.js';

let stack: InboundStack;

beforeAll(async () => {
  stack = await startInboundStack();
});
afterAll(async () => {
  await stack?.stop();
});

const useApp = (env: Record<string, string> = {}) => useAppOf(() => stack, env);

/** The first message of `kind` (e.g. 'INVITE sip:') a sipp instance logged. */
function logged(messages: string, kind: string): string {
  const start = messages.indexOf(kind);
  expect(start, `no ${kind} in the log`).toBeGreaterThanOrEqual(0);
  const end = messages.indexOf('\n\n', start);
  return messages.slice(start, end > 0 ? end : undefined);
}

async function oneFeatureServer(name: string, address = '127.0.1.10') {
  const fs = await startFeatureServer(name, address, { timeoutMs: 15_000 });
  await featureServerUp(stack, fs.hostport);
  return fs;
}

describe('carrier calls', () => {
  const sbc = useApp();

  it('reach the feature server with the identity headers and media anchored in rtpengine', async () => {
    const fs = await oneFeatureServer('uas-fs-answer');
    let callId = '';
    let packets: Record<string, number> = {};
    const caller = placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 1500 });
    // While the call is up, rtpengine counts the RTP each side sends through it.
    await waitUntil(
      async () => {
        callId = [...sbc().app.calls.keys()][0] ?? '';
        if (!callId) return false;
        packets = await rtpPackets(stack.rtpengine, callId);
        return Object.values(packets).filter((n) => n > 0).length >= 2;
      },
      { what: 'RTP from both parties through rtpengine', timeoutMs: 5000 },
    );
    const result = await caller;
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);

    const invite = logged(served.messages, 'INVITE sip:');
    // A realm Request-URI keeps its domain; the INVITE goes through the feature server as a proxy.
    expect(invite).toMatch(/^INVITE sip:\+16173333456@jambonz\.org SIP\/2\.0/);
    expect(invite).toMatch(/\nX-Forwarded-For: 127\.0\.38\.20\s*\n/);
    expect(invite).toMatch(/\nX-Originating-Carrier: westco\s*\n/);
    expect(invite).toMatch(/\nX-Forwarded-Carrier: westco\s*\n/);
    expect(invite).toMatch(new RegExp(`\\nX-Voip-Carrier-Sid: ${JAMBONZ.carriers.westcoMain}\\s*\\n`));
    expect(invite).toMatch(new RegExp(`\\nX-Account-Sid: ${JAMBONZ.accounts.main}\\s*\\n`));
    expect(invite).toMatch(/\nX-CID: 1-\d+@127\.0\.38\.20\s*\n/);
    // `localhost` in From: the engine (like drachtio-server) puts its own address there.
    expect(invite).toMatch(/\nFrom: "Carrier Caller" <sip:15085551212@127\.0\.0\.1:\d+>;tag=/);
    expect(invite).toMatch(/\nX-Test: call\s*\n/);
    expect(invite).not.toMatch(/X-Authenticated-User|X-Application-Sid/);
    // The SDP the feature server got is rtpengine's, not the carrier's.
    expect(invite).toMatch(/c=IN IP4 127\.0\.0\.1/);
    expect(invite).not.toMatch(/c=IN IP4 127\.0\.38\.20/);
    expect(logged(result.messages, 'SIP/2.0 200 OK')).toMatch(/c=IN IP4 127\.0\.0\.1/);
    expect(result.messages).not.toMatch(/X-Trace-ID/);

    // Both directions carried RTP through rtpengine.
    expect(Object.keys(packets)).toHaveLength(2);
    for (const count of Object.values(packets)) expect(count).toBeGreaterThan(0);

    await waitUntil(() => Promise.resolve(sbc().records.cdrs.length > 0), { what: 'the CDR' });
    expect(sbc().records.cdrs[0]).toMatchObject({
      answered: true,
      sip_status: 200,
      trunk: 'westco',
      account_sid: JAMBONZ.accounts.main,
      termination_reason: 'caller hungup',
      remote_host: '127.0.38.20',
      from: '15085551212',
      to: '16173333456',
      call_sid: 'call-sid-1',
      trace_id: 'trace-1',
    });
    const text = await sbc().scrape();
    expect(metricValue(text, 'sbc_invites_total', { outcome: 'connected', originator: 'trunk' })).toBe(1);
    expect(metricValue(text, 'sbc_calls_in_progress')).toBe(0);
    expect(metricValue(text, 'sbc_calls_ended_total', { ended_by: 'caller' })).toBe(1);
  });

  it('end on a BYE from the feature server, copied to the caller', async () => {
    const fs = await oneFeatureServer('uas-fs-answer-then-bye');
    const result = await placeCall(stack, 'uac-call-wait-bye', { host: 'jambonz.org' });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(logged(result.messages, 'BYE sip:')).toMatch(/\nX-Reason: app-hangup\s*\n/);
    await waitUntil(() => Promise.resolve(sbc().records.cdrs.length > 0), { what: 'the CDR' });
    expect(sbc().records.cdrs[0]).toMatchObject({ termination_reason: 'called party hungup' });
  });

  it('are cancelled before the answer: 487 to the caller, CANCEL to the feature server', async () => {
    const fs = await oneFeatureServer('uas-fs-ring-until-cancel');
    const result = await placeCall(stack, 'uac-call-cancel', { host: 'jambonz.org' });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    await waitUntil(() => Promise.resolve(sbc().records.cdrs.length > 0), { what: 'the CDR' });
    expect(sbc().records.cdrs[0]).toMatchObject({
      answered: false,
      sip_status: 487,
      termination_reason: 'caller abandoned',
    });
    const text = await sbc().scrape();
    expect(metricValue(text, 'sbc_invites_total', { outcome: 'canceled', originator: 'trunk' })).toBe(1);
  });

  it('take a re-INVITE and an INFO from the caller through to the feature server', async () => {
    const fs = await oneFeatureServer('uas-fs-accept-reinvite');
    const result = await placeCall(stack, 'uac-call-reinvite', { host: 'jambonz.org' });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    // The re-INVITE's offer went through rtpengine: the feature server sees rtpengine's address.
    const first = served.messages.indexOf('INVITE sip:');
    const reinvite = logged(
      served.messages.slice(served.messages.indexOf('INVITE sip:', first + 1)),
      'INVITE sip:',
    );
    expect(reinvite).toMatch(/a=sendonly/);
    expect(reinvite).toMatch(/c=IN IP4 127\.0\.0\.1/);
    expect(logged(served.messages, 'INFO sip:')).toMatch(/hello feature server/);
    expect(
      logged(result.messages.slice(result.messages.indexOf('CSeq: 3 INFO')), 'SIP/2.0 200 OK'),
    ).toBeDefined();
    expect(result.messages).toMatch(/got it/);
  });

  it('take a re-INVITE from the feature server through to the caller', async () => {
    const fs = await oneFeatureServer('uas-fs-reinvite');
    const result = await placeCall(stack, 'uac-call-reinvite-from-fs', { host: 'jambonz.org', hold: 1500 });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    const reinvite = logged(
      result.messages.slice(result.messages.indexOf('INVITE sip:caller@')),
      'INVITE sip:',
    );
    expect(reinvite).toMatch(/a=sendonly/);
    expect(reinvite).toMatch(/c=IN IP4 127\.0\.0\.1/);
  });

  it('work with a late offer (INVITE without SDP, answer in the ACK)', async () => {
    const fs = await oneFeatureServer('uas-fs-late-offer');
    const result = await placeCall(stack, 'uac-call-late-offer', { host: 'jambonz.org' });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(logged(served.messages, 'INVITE sip:')).toMatch(/Content-Length: 0/);
    // The feature server's offer reached the caller through rtpengine, and the caller's answer came back.
    expect(logged(result.messages, 'SIP/2.0 200 OK')).toMatch(/c=IN IP4 127\.0\.0\.1/);
    expect(logged(served.messages, 'ACK sip:')).toMatch(/c=IN IP4 127\.0\.0\.1/);
  });

  it('get 480 when no feature server is available', async () => {
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      expect((await caller.invite({ host: 'jambonz.org' })).status).toBe(480);
    } finally {
      caller.close();
    }
  });
});

describe('device calls (realm jambonz.org: auth hook; delta.sip.jambonz.org: clients table)', () => {
  const sbc = useApp();

  it('are challenged, then connect with the hook credentials, with X-Authenticated-User', async () => {
    const fs = await oneFeatureServer('uas-fs-answer');
    const result = await runSipp({
      scenario: scenario('uac-device-call'),
      target: stack.engine.sipTarget,
      localAddress: '127.0.38.30',
      users: { mode: 'SEQUENTIAL', rows: [['jambonz.org', 'john']] },
      extraArgs: ['-s', '15551234567', '-d', '200', '-au', 'john', '-ap', '1234'],
      timeoutMs: 15_000,
    });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(logged(result.messages, 'SIP/2.0 401')).toMatch(/WWW-Authenticate: Digest realm="jambonz.org"/);
    const invite = logged(served.messages, 'INVITE sip:');
    expect(invite).toMatch(/\nX-Authenticated-User: john@jambonz\.org\s*\n/);
    expect(invite).toMatch(new RegExp(`\\nX-Account-Sid: ${JAMBONZ.accounts.main}\\s*\\n`));
    expect(invite).not.toMatch(/X-Originating-Carrier|Authorization:/);
    expect(stack.hook.requests.some((r) => r.body.method === 'INVITE' && r.body.username === 'john')).toBe(
      true,
    );
    const text = await sbc().scrape();
    expect(metricValue(text, 'sbc_invites_total', { outcome: 'challenged', originator: 'user' })).toBe(1);
    expect(metricValue(text, 'sbc_invites_total', { outcome: 'connected', originator: 'user' })).toBe(1);
  });

  it('with a wrong password get 403', async () => {
    const result = await runSipp({
      scenario: scenario('uac-device-call'),
      target: stack.engine.sipTarget,
      localAddress: '127.0.38.30',
      users: { mode: 'SEQUENTIAL', rows: [['jambonz.org', 'john']] },
      extraArgs: ['-s', '15551234567', '-au', 'john', '-ap', 'wrong'],
      timeoutMs: 10_000,
    });
    expect(result.ok).toBe(false);
    expect(result.messages).toMatch(/SIP\/2\.0 403[^\n]*\n[\s\S]*X-Reason: Invalid credentials/);
  });

  it('from the clients table connect with SHA-256 credentials', async () => {
    await seedClient(
      stack.db,
      { account_sid: JAMBONZ.accounts.delta, username: 'carol', password: 'secret-pw' },
      { encryptionSecret: JWT_SECRET },
    );
    const fs = await oneFeatureServer('uas-fs-answer');
    const phone = await RawCaller.open('127.0.38.31', stack.engine.sipTarget);
    try {
      const { challenge, answer } = await phone.deviceInvite({
        host: 'delta.sip.jambonz.org',
        did: '100',
        user: 'carol',
        password: 'secret-pw',
        algorithm: 'SHA-256',
      });
      expect(challenge.response.raw).toMatch(
        /WWW-Authenticate: Digest realm="delta.sip.jambonz.org"[^\r]*algorithm=SHA-256/,
      );
      expect(answer.status, answer.response.raw).toBe(200);
      expect(await answer.hangUp()).toBe(200);
    } finally {
      phone.close();
    }
    const served = await fs.run.done;
    expect(served.ok, served.describe()).toBe(true);
    expect(logged(served.messages, 'INVITE sip:')).toMatch(
      /\nX-Authenticated-User: carol@delta\.sip\.jambonz\.org\s*\n/,
    );
  });

  it('as an auth trunk become that carrier’s call (no X-Authenticated-User)', async () => {
    await stack.db.execute(
      `INSERT INTO voip_carriers (voip_carrier_sid, name, account_sid, service_provider_sid, trunk_type,
         inbound_auth_username, inbound_auth_password, application_sid, is_active)
       VALUES ('vc-auth-trunk', 'pbx-auth', ?, ?, 'auth', 'trunkuser', 'trunkpass', ?, 1)`,
      [JAMBONZ.accounts.delta, JAMBONZ.sp, JAMBONZ.apps.test],
    );
    const fs = await oneFeatureServer('uas-fs-answer');
    await stack.db.execute('UPDATE accounts SET registration_hook_sid = NULL WHERE account_sid = ?', [
      JAMBONZ.accounts.delta,
    ]);
    const result = await runSipp({
      scenario: scenario('uac-device-call'),
      target: stack.engine.sipTarget,
      localAddress: '127.0.38.32',
      users: { mode: 'SEQUENTIAL', rows: [['delta.sip.jambonz.org', 'trunkuser']] },
      extraArgs: ['-s', '15551234567', '-d', '100', '-au', 'trunkuser', '-ap', 'trunkpass'],
      timeoutMs: 15_000,
    });
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    const invite = logged(served.messages, 'INVITE sip:');
    expect(invite).toMatch(/\nX-Originating-Carrier: pbx-auth\s*\n/);
    expect(invite).toMatch(/\nX-Voip-Carrier-Sid: vc-auth-trunk\s*\n/);
    expect(invite).toMatch(new RegExp(`\\nX-Application-Sid: ${JAMBONZ.apps.test}\\s*\\n`));
    expect(invite).not.toMatch(/X-Authenticated-User/);
  });
});

describe('call limits (JAMBONES_TRACK_ACCOUNT_CALLS)', () => {
  const sbc = useApp({ JAMBONES_TRACK_ACCOUNT_CALLS: '1' });
  const counterKey = `incalls:account:${JAMBONZ.accounts.main}`;

  it('refuse a call over the account limit with 503, and every counter goes back to 0', async () => {
    await seedAccountLimit(stack.db, {
      account_sid: JAMBONZ.accounts.main,
      category: 'voice_call_session',
      quantity: 1,
    });
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { count: 2, timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const first = placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 1500 });
    await waitUntil(() => Promise.resolve(sbc().app.calls.size === 1), { what: 'the first call' });
    expect(await stack.redisClient.get(counterKey)).toBe('1');

    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const refused = await caller.invite({ host: 'jambonz.org' });
      expect(refused.status).toBe(503);
      expect(refused.reason).toBe('Max Account Calls In Progress');
      expect(refused.response.header('X-Call-Limit')).toBe('1');
    } finally {
      caller.close();
    }
    expect((await first).ok).toBe(true);
    await waitUntil(async () => (await stack.redisClient.get(counterKey)) === '0', {
      what: 'the counter at 0',
    });
    expect(sbc().records.alerts.some((a) => a.alert_type === 'account-call-limit')).toBe(true);
    await stack.db.execute('DELETE FROM account_limits WHERE account_sid = ?', [JAMBONZ.accounts.main]);
    await fs.run.stop();
  });

  it('count 20 concurrent calls and give each back exactly once', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.11', { count: 20, timeoutMs: 30_000 });
    await featureServerUp(stack, fs.hostport);
    let peak = 0;
    const watch = setInterval(() => {
      void stack.redisClient.get(counterKey).then((v) => (peak = Math.max(peak, Number(v ?? 0))));
    }, 50);
    const result = await runSipp({
      scenario: scenario('uac-call'),
      target: stack.engine.sipTarget,
      localAddress: '127.0.38.20',
      users: { mode: 'SEQUENTIAL', rows: [['jambonz.org', '15085551212', 'X-Test: load']] },
      rate: 20,
      count: 20,
      extraArgs: ['-s', '+16173333456', '-d', '800'],
      timeoutMs: 30_000,
    });
    clearInterval(watch);
    expect(result.ok, result.describe()).toBe(true);
    expect(result.successfulCalls).toBe(20);
    expect(peak).toBeGreaterThan(1);
    await waitUntil(async () => (await stack.redisClient.get(counterKey)) === '0', {
      what: 'the counter at 0',
    });
    expect(sbc().app.calls.size).toBe(0);
  });
});

describe('hosted limits (JAMBONES_HOSTING, JAMBONES_TRACK_SP_CALLS)', () => {
  useApp({ JAMBONES_HOSTING: '1', JAMBONES_TRACK_SP_CALLS: '1' });

  it('refuse a call over the subscription with 503 Maximum Calls In Progress', async () => {
    // jambonz's uac-pcap-carrier-max-call-limit: an account whose subscription has 0 sessions.
    const subscription = await seedSubscription(stack.db, {
      account_sid: JAMBONZ.accounts.main,
      products: [{ category: 'voice_call_session', quantity: 0 }],
    });
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const refused = await caller.invite({ host: 'jambonz.org' });
      expect(refused.status).toBe(503);
      expect(refused.reason).toBe('Maximum Calls In Progress');
    } finally {
      caller.close();
      await stack.db.execute('DELETE FROM account_products WHERE account_subscription_sid = ?', [
        subscription,
      ]);
      await stack.db.execute('DELETE FROM account_subscriptions WHERE account_subscription_sid = ?', [
        subscription,
      ]);
    }
    expect(await stack.redisClient.get(`incalls:account:${JAMBONZ.accounts.main}`)).toBe('0');
    expect(await stack.redisClient.get(`incalls:sp:${JAMBONZ.sp}:`)).toBe('0');
  });

  it('refuse a call over the service provider limit with its headers', async () => {
    await seedServiceProviderLimit(stack.db, {
      service_provider_sid: JAMBONZ.sp,
      category: 'voice_call_session',
      quantity: 1,
    });
    await stack.redisClient.set(`incalls:sp:${JAMBONZ.sp}:`, '1');
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const refused = await caller.invite({ host: 'jambonz.org' });
      expect(refused.status).toBe(503);
      expect(refused.reason).toBe('Max Service Provider Calls In Progress');
      expect(refused.response.header('X-Service-Provider-Sid')).toBe(JAMBONZ.sp);
      expect(refused.response.header('X-Call-Limit')).toBe('1');
    } finally {
      caller.close();
      await stack.db.execute('DELETE FROM service_provider_limits WHERE service_provider_sid = ?', [
        JAMBONZ.sp,
      ]);
    }
    // Only this call's own increment was given back.
    expect(await stack.redisClient.get(`incalls:sp:${JAMBONZ.sp}:`)).toBe('1');
    await stack.redisClient.set(`incalls:sp:${JAMBONZ.sp}:`, '0');
  });
});

describe('callers inside the private VoIP network (PRIVATE_VOIP_NETWORK_CIDR)', () => {
  useApp({ PRIVATE_VOIP_NETWORK_CIDR: '127.0.38.0/24' });

  it('get the SBC’s private SIP address as Contact', async () => {
    const fs = await oneFeatureServer('uas-fs-answer');
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const call = await caller.invite({ host: 'jambonz.org' });
      expect(call.status).toBe(200);
      expect(call.response.header('contact')).toMatch(/^<sip:127\.0\.0\.1:\d+;transport=udp>$/);
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    expect((await fs.run.done).ok).toBe(true);
  });
});

describe('draining (SIGTERM)', () => {
  const sbc = useApp();

  it('leaves active-sip and answers new INVITEs 503 with Retry-After', async () => {
    const members = await stack.sets.members('active-sip');
    expect(members.length).toBeGreaterThan(0);
    await sbc().app.drain();
    expect(await stack.sets.members('active-sip')).toEqual([]);
    const fs = await oneFeatureServer('uas-fs-answer');
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const refused = await caller.invite({ host: 'jambonz.org' });
      expect(refused.status).toBe(503);
      expect(refused.response.header('Retry-After')).toBe('30');
    } finally {
      caller.close();
      await fs.run.stop();
    }
    expect(await sbc().app.callsEnded(100)).toBe(0);
  });
});

describe('devices that fail authentication', () => {
  const sbc = useApp({ SBC_AUTH_FAILURE_LIMIT: '3', SBC_BAN_SECONDS: '600' });

  it('are banned past the limit: their IP goes into the set the engines read, counted and alerted once', async () => {
    const result = await runSipp({
      scenario: scenario('uac-device-call'),
      target: stack.engine.sipTarget,
      localAddress: '127.0.38.31',
      users: { mode: 'SEQUENTIAL', rows: [['jambonz.org', 'john']] },
      extraArgs: ['-s', '15551234567', '-au', 'john', '-ap', 'wrong'],
      count: 4,
      timeoutMs: 15_000,
    });
    expect(result.ok).toBe(false);
    const { redis } = sbc();
    await waitUntil(async () => (await redis.smembers('blacklist-sip-ips')).includes('127.0.38.31'), {
      what: 'the ban in Redis',
      timeoutMs: 3000,
    });
    const text = await sbc().scrape();
    expect(metricValue(text, 'sbc_auth_failures_total', { method: 'INVITE' })).toBe(4);
    expect(metricValue(text, 'sbc_source_bans_total', { reason: 'auth-failures' })).toBe(1);
    expect(sbc().records.alerts.filter((a) => a.alert_type === 'source-banned')).toHaveLength(1);
    await redis.srem('blacklist-sip-ips', '127.0.38.31');
  });
});
