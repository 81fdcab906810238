import { describe, expect, it } from 'vitest';
import { formatResponse, parseCommand, validateRequest } from './cli-protocol.js';

describe('parseCommand (the CLI arguments)', () => {
  it('maps the fs commands to jambonz actions', () => {
    expect(parseCommand(['fs', 'drain', '127.0.1.5'])).toEqual({
      kind: 'request',
      request: { action: 'fs-drain', server: '127.0.1.5' },
      json: false,
    });
    expect(parseCommand(['fs', 'undrain', '[::1]:5060', '--json'])).toEqual({
      kind: 'request',
      request: { action: 'fs-undrain', server: '[::1]:5060' },
      json: true,
    });
    expect(parseCommand(['fs', 'drained'])).toMatchObject({ request: { action: 'fs-drained' } });
    expect(parseCommand(['fs', 'active'])).toMatchObject({ request: { action: 'fs-available' } });
    expect(parseCommand(['fs', 'list'])).toMatchObject({ request: { action: 'fs-list' } });
  });

  it('maps the configuration commands', () => {
    expect(parseCommand(['set', 'testKey', 'testValue'])).toMatchObject({
      request: { action: 'set', key: 'testKey', value: 'testValue' },
    });
    expect(parseCommand(['get', 'K'])).toMatchObject({ request: { action: 'get', key: 'K' } });
    expect(parseCommand(['unset', 'K'])).toMatchObject({ request: { action: 'unset', key: 'K' } });
    expect(parseCommand(['add', 'K', '403'])).toMatchObject({
      request: { action: 'add', key: 'K', item: '403' },
    });
    expect(parseCommand(['remove', 'K', '403'])).toMatchObject({
      request: { action: 'remove', key: 'K', item: '403' },
    });
    expect(parseCommand(['list'])).toMatchObject({ request: { action: 'list' } });
  });

  it('gives help without arguments', () => {
    expect(parseCommand([])).toEqual({ kind: 'help' });
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['fs', 'drain', 'x'], 'Invalid IP address: x'],
    [['fs', 'drain'], 'drain requires server IP address'],
    [['fs', 'undrain'], 'undrain requires server IP address'],
    [['fs', 'drain', '127.0.1.5', '127.0.1.6'], 'drain takes one server, got 2'],
    [['fs', 'list', 'extra'], 'fs list takes no argument'],
    [['fs'], 'fs command requires an action'],
    [['fs', 'nope'], 'Unknown fs command: nope. Use: drain, undrain, drained, active, list'],
    [['unknown-command'], 'Unknown command: unknown-command. Run without arguments for help.'],
    [['set', 'a'], 'set requires key and value'],
    [['get'], 'get requires key'],
    [['add', 'a'], 'add requires key and item'],
    [['remove'], 'remove requires key and item'],
    [['list', 'x'], 'list takes no argument (got 1 arguments)'],
  ])('refuses %j', (argv, message) => {
    expect(parseCommand(argv)).toEqual({ kind: 'error', message });
  });
});

describe('validateRequest (what the server accepts)', () => {
  it('canonicalises the server and refuses bad ones', () => {
    expect(validateRequest({ action: 'fs-drain', server: ' 127.0.1.5 ' })).toEqual({
      action: 'fs-drain',
      server: '127.0.1.5',
    });
    expect(validateRequest({ action: 'fs-drain', server: 'evil;rm' })).toEqual({
      error: 'Invalid IP address: evil;rm',
    });
    expect(validateRequest({ action: 'fs-undrain' })).toEqual({
      error: 'undrain requires server IP address',
    });
    expect(validateRequest({ action: 'set', key: 'K', value: 5 })).toEqual({
      action: 'set',
      key: 'K',
      value: '5',
    });
    expect(validateRequest({ action: 'set', key: 'K' })).toEqual({ error: 'set requires key and value' });
    expect(validateRequest({ action: 'get' })).toEqual({ error: 'get requires key' });
    expect(validateRequest({ action: 'flushall' })).toEqual({ error: 'Unknown action: flushall' });
    expect(validateRequest('fs-list')).toEqual({ error: 'Invalid command' });
  });
});

describe('formatResponse', () => {
  it('prints fs list as jambonz does', () => {
    expect(
      formatResponse(
        { action: 'fs-list' },
        {
          success: true,
          servers: [
            { server: '127.0.1.5:5060', status: 'drained-and-still-pinging' },
            { server: '127.0.1.7', status: 'drained' },
          ],
          drained: ['127.0.1.5', '127.0.1.7'],
        },
      ),
    ).toEqual([
      'Feature servers:',
      '  🔴 127.0.1.5:5060 (drained-and-still-pinging)',
      '  🔴 127.0.1.7 (drained)',
    ]);
  });

  it('says when there is nothing', () => {
    expect(formatResponse({ action: 'fs-available' }, { success: true, available: [] })).toEqual([
      'No active feature servers found',
    ]);
    expect(formatResponse({ action: 'fs-list' }, { success: true, servers: [], drained: [] })).toEqual([
      'No servers configured',
    ]);
    expect(formatResponse({ action: 'fs-drained' }, { success: true, drained: [] })).toEqual([
      'No servers are currently drained',
    ]);
  });

  it('prints configuration values as jambonz does (JSON values)', () => {
    expect(
      formatResponse(
        { action: 'set', key: 'testKey', value: 'testValue' },
        { success: true, key: 'testKey', value: 'testValue' },
      ),
    ).toEqual(['✓ testKey = "testValue"']);
    expect(
      formatResponse(
        { action: 'get', key: 'K' },
        { success: true, key: 'K', value: 60000, source: 'environment' },
      ),
    ).toEqual(['K = 60000 (from the environment)']);
    expect(
      formatResponse(
        { action: 'list' },
        { success: true, config: { A: 'debug', B: [403] }, sources: { A: 'runtime', B: 'environment' } },
      ),
    ).toEqual(['Runtime Configuration:', '  A = "debug"', '  B = [403] (from the environment)']);
    expect(
      formatResponse(
        { action: 'add', key: 'B', item: '403' },
        { success: true, key: 'B', item: 403, array: [403], added: true },
      ),
    ).toEqual(['✓ Added 403 to B', 'B = [403]']);
  });
});
