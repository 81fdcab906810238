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

  it('gives help without arguments', () => {
    expect(parseCommand([])).toEqual({ kind: 'help' });
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['fs', 'drain', 'x'], 'Invalid IP address: x'],
    [['fs', 'drain'], 'drain requires a server IP address'],
    [['fs', 'drain', '127.0.1.5', '127.0.1.6'], 'drain takes one server, got 2'],
    [['fs', 'list', 'extra'], 'fs list takes no argument'],
    [['fs'], 'fs needs one of: drain, undrain, drained, active, list'],
    [['fs', 'nope'], 'Unknown command: fs nope'],
    [['set', 'a', 'b'], 'Unknown command: set'],
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
      error: 'undrain requires a server IP address',
    });
    expect(validateRequest({ action: 'flushall' })).toEqual({ error: 'Unknown action: flushall' });
    expect(validateRequest('fs-list')).toEqual({ error: 'Invalid command' });
  });
});

describe('formatResponse', () => {
  it('prints fs list as aligned columns', () => {
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
      '  127.0.1.5:5060  drained-and-still-pinging',
      '  127.0.1.7       drained',
    ]);
  });

  it('says when there is nothing', () => {
    expect(formatResponse({ action: 'fs-available' }, { success: true, available: [] })).toEqual([
      'No available feature servers',
    ]);
    expect(formatResponse({ action: 'fs-list' }, { success: true, servers: [], drained: [] })).toEqual([
      'No feature servers',
    ]);
  });
});
