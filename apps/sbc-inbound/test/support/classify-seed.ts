import {
  seedAccount,
  seedApplication,
  seedCarrier,
  seedPhoneNumber,
  seedServiceProvider,
  type SqlRunner,
} from '@sbc/db';

/**
 * jambonz sbc-inbound's test data (test/db/populate-test-data.sql, reference §7.2) with the same
 * sids, its 172.38.0.x addresses moved to 127.0.38.x (and 3.3.3.3 to 127.0.38.3).
 */
export const JAMBONZ = {
  sp: '3f35518f-5a0d-4c2e-90a5-2407bb3b36f0',
  hook: '90dda62e-0ea2-47d1-8164-5bd49003476c',
  accounts: {
    /** realm jambonz.org, registration hook. */
    main: 'ed649e33-e771-403a-8c99-1780eabbc803',
    /** delta.sip.jambonz.org */
    delta: 'ee9d7d49-b3e4-4fdb-9d66-661149f717e8',
    /** echo.sip.jambonz.org (0 sessions in jambonz) */
    echo: 'd7cc37cb-d152-49ef-a51b-485f6e917089',
    /** echo2 / foxtrot: the default-route ambiguity pair. */
    echo2: '239d7d49-b3e4-4fdb-9d66-661149f717e8',
    foxtrot: '909d7d49-b3e4-4fdb-9d66-661149f717e8',
    /** ram.sip.jambonz.org, no carriers of its own. */
    ram: 'acct-100',
  },
  carriers: {
    westcoMain: '287c1452-620d-4195-9f19-c9814ef90d78',
    westcoEcho: '9b1abdc7-0220-4964-bc66-32b5c70cd9ab',
    pbx: '999c1452-620d-4195-9f19-c9814ef90d78',
    twilio1: '731abdc7-0220-4964-bc66-32b5c70cd9ab',
    twilio2: '987abdc7-0220-4964-bc66-32b5c70cd9ab',
    voip100: 'voip100',
    voip101: 'voip101',
    regTrunk: '4a7d1c8e-5f2b-4d9a-8e3c-6b5a9f1e4c7d',
  },
  apps: {
    test: '3b43e39f-4346-4218-8434-a53130e8be49',
    echo2: '8843e39f-4346-4218-8434-a53130e8be49',
    foxtrot: '7743e39f-4346-4218-8434-a53130e8be49',
    app100: 'app100',
    app101: 'app101',
  },
  numbers: {
    main: '999a5339-c62c-4075-9e19-f4de70a96597',
    wildcard150822233: 'd458bf7a-bcea-47b2-ac96-66dfc9c5c220',
    loop12125551212: 'c17d5a7d-9328-4663-92c0-f65aa8381264',
    regTrunk16175551000: '7c2d4e6f-8a1b-4c9d-7e5f-2a8b3c6d9e1f',
    phone100: 'phone100',
    phone101: 'phone101',
  },
  ip: {
    westco: '127.0.38.20',
    pbx: '127.0.38.21',
    device: '127.0.38.30',
    twilio: '127.0.38.40',
    voip100And101: '127.0.38.50',
    voip101: '127.0.38.51',
    ephemeral: '127.0.38.60',
    outboundOnly: '127.0.38.3',
  },
} as const;

export async function seedJambonzInbound(db: SqlRunner): Promise<void> {
  const { sp, accounts: a, carriers: c, apps, numbers: n, ip } = JAMBONZ;
  const hook = {
    webhook_sid: JAMBONZ.hook,
    url: 'http://127.0.0.1:4000/auth',
    username: 'foo',
    password: 'bar',
  };
  await seedServiceProvider(db, {
    service_provider_sid: sp,
    name: 'SP A',
    root_domain: 'jambonz.org',
    registration_hook: hook,
  });
  // The account shares the SP's hook row (seedAccount would create another one).
  await seedAccount(db, {
    account_sid: a.main,
    service_provider_sid: sp,
    name: 'test account',
    sip_realm: 'jambonz.org',
    webhook_secret: 'foobar',
  });
  await db.execute('UPDATE accounts SET registration_hook_sid = ? WHERE account_sid = ?', [
    JAMBONZ.hook,
    a.main,
  ]);
  for (const [sid, realm] of [
    [a.delta, 'delta.sip.jambonz.org'],
    [a.echo, 'echo.sip.jambonz.org'],
    [a.echo2, 'echo2.sip.jambonz.org'],
    [a.foxtrot, 'foxtrot.sip.jambonz.org'],
    [a.ram, 'ram.sip.jambonz.org'],
  ] as const) {
    await seedAccount(db, {
      account_sid: sid,
      service_provider_sid: sp,
      sip_realm: realm,
      webhook_secret: 'foobar',
    });
  }
  for (const [sid, account] of [
    [apps.test, a.delta],
    [apps.echo2, a.echo2],
    [apps.foxtrot, a.foxtrot],
    [apps.app100, a.delta],
    [apps.app101, a.delta],
  ] as const) {
    await seedApplication(db, { application_sid: sid, account_sid: account, name: sid });
  }

  // westco, once per account, on the same addresses; jambonz's rows have no service provider.
  for (const [sid, account] of [
    [c.westcoMain, a.main],
    [c.westcoEcho, a.echo],
  ] as const) {
    await seedCarrier(db, {
      voip_carrier_sid: sid,
      name: 'westco',
      service_provider_sid: sp,
      account_sid: account,
      gateways: [{ ipv4: ip.westco }, { ipv4: ip.outboundOnly, port: 5062, inbound: false }],
    });
    await db.execute('UPDATE voip_carriers SET service_provider_sid = NULL WHERE voip_carrier_sid = ?', [
      sid,
    ]);
  }
  await seedCarrier(db, {
    voip_carrier_sid: c.pbx,
    name: 'customer PBX',
    service_provider_sid: sp,
    account_sid: a.delta,
    application_sid: apps.test,
    gateways: [{ ipv4: ip.pbx, outbound: false }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: c.twilio1,
    name: 'twilio-1',
    service_provider_sid: sp,
    account_sid: a.echo2,
    application_sid: apps.echo2,
    gateways: [{ ipv4: ip.twilio, outbound: false }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: c.twilio2,
    name: 'twilio-2',
    service_provider_sid: sp,
    account_sid: a.foxtrot,
    application_sid: apps.foxtrot,
    gateways: [{ ipv4: ip.twilio, outbound: false }],
  });
  // Carriers for all accounts of the SP.
  await seedCarrier(db, {
    voip_carrier_sid: c.voip100,
    name: 'test-voip-carrier',
    service_provider_sid: sp,
    gateways: [{ sip_gateway_sid: 'sip100', ipv4: ip.voip100And101, outbound: false }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: c.voip101,
    name: 'test-voip-carrier-101',
    service_provider_sid: sp,
    gateways: [
      { sip_gateway_sid: 'sip101', ipv4: ip.voip100And101, outbound: false },
      { sip_gateway_sid: 'sip102', ipv4: ip.voip101, outbound: false },
    ],
  });
  // Registration trunk: one outbound gateway; inbound calls come from an ephemeral gateway.
  await seedCarrier(db, {
    voip_carrier_sid: c.regTrunk,
    name: 'test-registration-trunk',
    service_provider_sid: sp,
    account_sid: a.main,
    trunk_type: 'reg',
    requires_register: true,
    register_username: 'testuser',
    register_sip_realm: 'sip.carrier.example.com',
    register_password: 'testpass',
    gateways: [{ ipv4: ip.outboundOnly, inbound: false }],
  });

  const numbers: [string | undefined, string, string, string, string | null][] = [
    [n.main, '16173333456', c.westcoMain, a.main, null],
    [undefined, '1508222*', c.westcoMain, a.main, null],
    [undefined, '1508*', c.westcoMain, a.main, null],
    [n.wildcard150822233, '150822233*', c.westcoMain, a.main, null],
    [undefined, '15083871234', c.westcoMain, a.echo, null],
    [n.loop12125551212, '12125551212', c.westcoMain, a.main, apps.test],
    [n.phone100, '^100', c.voip101, a.delta, apps.app100],
    [n.phone101, '^10012', c.voip100, a.delta, apps.app101],
    // Not a valid regular expression: ignored (sbc-inbound #201).
    ['phone102', '\\dkjfhmdf\\', c.voip100, a.delta, apps.app101],
    [n.regTrunk16175551000, '16175551000', c.regTrunk, a.main, apps.test],
  ];
  for (const [sid, number, carrier, account, application] of numbers) {
    await seedPhoneNumber(db, {
      ...(sid ? { phone_number_sid: sid } : {}),
      number,
      voip_carrier_sid: carrier,
      account_sid: account,
      application_sid: application,
    });
  }
}

/** Scenarios beyond jambonz's seed, each under its own service provider and 127.x addresses. */
export const SCENARIOS = {
  ip: {
    rangeExact: '127.1.1.5',
    rangeIn24: '127.1.1.9',
    rangeIn16: '127.1.9.9',
    own218: '127.0.41.1',
    all218: '127.0.41.2',
    both218: '127.0.41.3',
    shared134: '127.0.42.1',
    carrier127: '127.0.43.1',
    reg179: '127.0.44.1',
    regSpWide179: '127.0.44.2',
    regDup179: '127.0.44.3',
    realm503: '127.0.45.1',
    inactive: '127.0.46.1',
    inactiveCarrier: '127.0.46.2',
    siprec: '127.0.47.1',
    ephemeral: '127.0.48.60',
    ephemeralExpired: '127.0.48.61',
    ephemeralOutbound: '127.0.48.3',
    teams: '127.0.9.9',
  },
} as const;

type Seeds = {
  sp: string;
  accounts: [sid: string, realm: string | null, extra?: { is_active?: boolean; siprec_hook_sid?: string }][];
  apps?: [sid: string, account: string][];
};

async function seedTenant(db: SqlRunner, { sp, accounts, apps = [] }: Seeds): Promise<void> {
  await seedServiceProvider(db, { service_provider_sid: sp, name: sp });
  for (const [sid, realm] of accounts) {
    await seedAccount(db, { account_sid: sid, service_provider_sid: sp, sip_realm: realm });
  }
  for (const [sid, account] of apps) {
    await seedApplication(db, { application_sid: sid, account_sid: account, name: sid });
  }
  for (const [sid, , extra] of accounts) {
    if (extra?.siprec_hook_sid) {
      await db.execute('UPDATE accounts SET siprec_hook_sid = ? WHERE account_sid = ?', [
        extra.siprec_hook_sid,
        sid,
      ]);
    }
    if (extra?.is_active === false) {
      await db.execute('UPDATE accounts SET is_active = 0 WHERE account_sid = ?', [sid]);
    }
  }
}

export async function seedScenarios(db: SqlRunner): Promise<void> {
  const { ip } = SCENARIOS;
  const sp = JAMBONZ.sp;

  // Exact address before ranges, the most specific range first.
  await seedTenant(db, { sp: 'sp-ranges', accounts: [['acct-ranges', 'ranges.test']] });
  for (const [sid, ipv4, netmask] of [
    ['vc-exact', ip.rangeExact, 32],
    ['vc-24', '127.1.1.0', 24],
    ['vc-16', '127.1.0.0', 16],
  ] as const) {
    await seedCarrier(db, {
      voip_carrier_sid: sid,
      service_provider_sid: 'sp-ranges',
      account_sid: 'acct-ranges',
      gateways: [{ ipv4, netmask, outbound: false }],
    });
  }
  await seedPhoneNumber(db, { number: '15550160000', voip_carrier_sid: 'vc-16', account_sid: 'acct-ranges' });

  // #218: an account's own carrier and a carrier for all accounts.
  await seedTenant(db, {
    sp: 'sp-218',
    accounts: [
      ['acct-218', 'a218.test'],
      ['acct-218b', 'b218.test'],
    ],
    apps: [
      ['app-218-own', 'acct-218'],
      ['app-218-num', 'acct-218'],
    ],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-218-own',
    service_provider_sid: 'sp-218',
    account_sid: 'acct-218',
    application_sid: 'app-218-own',
    gateways: [{ ipv4: ip.own218 }, { ipv4: ip.both218 }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-218-all',
    service_provider_sid: 'sp-218',
    gateways: [{ ipv4: ip.all218 }, { ipv4: ip.both218 }],
  });
  await seedPhoneNumber(db, {
    number: '15552180000',
    voip_carrier_sid: 'vc-218-all',
    account_sid: 'acct-218',
    application_sid: 'app-218-num',
  });

  // #134: several carriers behind the same gateway.
  await seedTenant(db, {
    sp: 'sp-134',
    accounts: [
      ['acct-134a', null],
      ['acct-134b', null],
    ],
    apps: [['app-134b', 'acct-134b']],
  });
  for (const sid of ['vc-134-1', 'vc-134-2']) {
    await seedCarrier(db, {
      voip_carrier_sid: sid,
      service_provider_sid: 'sp-134',
      gateways: [{ ipv4: ip.shared134 }],
    });
  }
  await seedPhoneNumber(db, {
    number: '15551340002',
    voip_carrier_sid: 'vc-134-2',
    account_sid: 'acct-134b',
    application_sid: 'app-134b',
  });
  await seedPhoneNumber(db, {
    number: '15551340099',
    voip_carrier_sid: 'vc-134-1',
    account_sid: 'acct-134a',
  });
  await seedPhoneNumber(db, {
    number: '15551340099',
    voip_carrier_sid: 'vc-134-2',
    account_sid: 'acct-134b',
  });
  await seedPhoneNumber(db, { number: '15551340077', voip_carrier_sid: 'vc-134-1', account_sid: null });

  // #127: a number's application overrides the carrier's default one.
  await seedTenant(db, {
    sp: 'sp-127',
    accounts: [
      ['acct-127', 'a127.test'],
      ['acct-127x', null],
    ],
    apps: [
      ['app-127-default', 'acct-127'],
      ['app-127-number', 'acct-127'],
    ],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-127',
    service_provider_sid: 'sp-127',
    account_sid: 'acct-127',
    application_sid: 'app-127-default',
    gateways: [{ ipv4: ip.carrier127 }],
  });
  await seedPhoneNumber(db, {
    phone_number_sid: 'pn-127-app',
    number: '15551270001',
    voip_carrier_sid: 'vc-127',
    account_sid: 'acct-127',
    application_sid: 'app-127-number',
  });
  await seedPhoneNumber(db, {
    phone_number_sid: 'pn-127-noapp',
    number: '15551270002',
    voip_carrier_sid: 'vc-127',
    account_sid: 'acct-127',
  });

  // feature-server #179: carriers we register to send to sip:<register_username>@<register_sip_realm>.
  await seedTenant(db, { sp: 'sp-179', accounts: [['acct-179', null]], apps: [['app-179', 'acct-179']] });
  const registration = (realm: string, user: string) => ({
    service_provider_sid: 'sp-179',
    trunk_type: 'reg' as const,
    requires_register: true,
    register_sip_realm: realm,
    register_username: user,
    register_password: 'secret',
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-179',
    ...registration('sip.carrier179.test', 'reg179'),
    account_sid: 'acct-179',
    application_sid: 'app-179',
    gateways: [{ ipv4: ip.reg179, inbound: false }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-179-sp',
    ...registration('sip.spwide179.test', 'reg179'),
    gateways: [{ ipv4: ip.regSpWide179, inbound: false }],
  });
  for (const sid of ['vc-179-dup1', 'vc-179-dup2']) {
    await seedCarrier(db, {
      voip_carrier_sid: sid,
      ...registration('sip.dup179.test', 'dup'),
      account_sid: 'acct-179',
      gateways: [{ ipv4: ip.regDup179, inbound: false }],
    });
  }

  // Two carriers of one account behind one gateway, both routing the same number.
  await seedTenant(db, { sp: 'sp-r503', accounts: [['acct-r503', 'r503.test']] });
  for (const sid of ['vc-r503-1', 'vc-r503-2']) {
    await seedCarrier(db, {
      voip_carrier_sid: sid,
      service_provider_sid: 'sp-r503',
      account_sid: 'acct-r503',
      gateways: [{ ipv4: ip.realm503 }],
    });
    await seedPhoneNumber(db, { number: '15555030000', voip_carrier_sid: sid, account_sid: 'acct-r503' });
  }

  // Inactive account; inactive carrier.
  await seedTenant(db, {
    sp: 'sp-inactive',
    accounts: [
      ['acct-inactive', 'inactive.test', { is_active: false }],
      ['acct-inactive2', null],
    ],
    apps: [['app-inactive2', 'acct-inactive2']],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-inactive',
    service_provider_sid: 'sp-inactive',
    account_sid: 'acct-inactive',
    gateways: [{ ipv4: ip.inactive }],
  });
  await seedPhoneNumber(db, {
    number: '15550460001',
    voip_carrier_sid: 'vc-inactive',
    account_sid: 'acct-inactive',
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-off',
    service_provider_sid: 'sp-inactive',
    account_sid: 'acct-inactive2',
    application_sid: 'app-inactive2',
    is_active: false,
    gateways: [{ ipv4: ip.inactiveCarrier }],
  });

  // SIPREC: the account's siprec_hook_sid is the application.
  await seedTenant(db, {
    sp: 'sp-siprec',
    accounts: [['acct-siprec', 'siprec.test']],
    apps: [
      ['app-siprec', 'acct-siprec'],
      ['app-siprec-default', 'acct-siprec'],
    ],
  });
  await db.execute("UPDATE accounts SET siprec_hook_sid = 'app-siprec' WHERE account_sid = 'acct-siprec'");
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-siprec',
    service_provider_sid: 'sp-siprec',
    account_sid: 'acct-siprec',
    application_sid: 'app-siprec-default',
    gateways: [{ ipv4: ip.siprec }],
  });

  // A registration trunk reached by IP Request-URI from its ephemeral gateway.
  await seedTenant(db, {
    sp: 'sp-eph',
    accounts: [
      ['acct-eph', null],
      ['acct-eph2', null],
    ],
    apps: [['app-eph', 'acct-eph']],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-eph',
    service_provider_sid: 'sp-eph',
    account_sid: 'acct-eph',
    application_sid: 'app-eph',
    trunk_type: 'reg',
    requires_register: true,
    register_sip_realm: 'sip.eph.test',
    register_username: 'eph',
    gateways: [{ ipv4: ip.ephemeralOutbound, inbound: false }],
  });

  // Microsoft Teams tenants.
  await seedTenant(db, {
    sp: 'sp-teams',
    accounts: [['acct-teams', null]],
    apps: [['app-teams', 'acct-teams']],
  });
  await db.execute(
    `INSERT INTO ms_teams_tenants (ms_teams_tenant_sid, service_provider_sid, account_sid, application_sid, tenant_fqdn)
     VALUES ('tt-1', 'sp-teams', 'acct-teams', 'app-teams', 'contoso.teams.test'),
            ('tt-2', 'sp-teams', 'acct-teams', NULL, 'noapp.teams.test')`,
  );

  // Auth trunks (digest-authenticated carriers) of the jambonz seed's account and SP.
  const auth = { service_provider_sid: sp, trunk_type: 'auth' as const, inbound_auth_username: 'trunk' };
  await seedCarrier(db, { voip_carrier_sid: 'vc-auth-main', ...auth, account_sid: JAMBONZ.accounts.main });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-auth-sp',
    ...auth,
    application_sid: JAMBONZ.apps.app100,
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-auth-off',
    ...auth,
    account_sid: JAMBONZ.accounts.main,
    is_active: false,
  });
  await seedCarrier(db, { voip_carrier_sid: 'vc-auth-delta', ...auth, account_sid: JAMBONZ.accounts.delta });
  await seedPhoneNumber(db, {
    number: '15550009999',
    voip_carrier_sid: 'vc-auth-sp',
    account_sid: JAMBONZ.accounts.main,
    application_sid: JAMBONZ.apps.test,
  });

  // IPv6 gateways: one address, one range (each behind its own account's realm).
  await seedTenant(db, {
    sp: 'sp-v6',
    accounts: [
      ['acct-v6a', 'v6a.test'],
      ['acct-v6b', 'v6b.test'],
    ],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-v6-exact',
    service_provider_sid: 'sp-v6',
    account_sid: 'acct-v6a',
    gateways: [{ ipv4: '::1' }],
  });
  await seedCarrier(db, {
    voip_carrier_sid: 'vc-v6-range',
    service_provider_sid: 'sp-v6',
    account_sid: 'acct-v6b',
    gateways: [{ ipv4: '::/120' }],
  });
}
