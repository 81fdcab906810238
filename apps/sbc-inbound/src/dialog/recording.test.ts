import { describe, expect, it } from 'vitest';
import { parse as parseSdp } from 'sdp-transform';
import { recordingMetadataXml, siprecInviteBody } from './recording.js';

const metadata = {
  sipCallId: 'abc@127.0.0.1',
  fromAor: 'sip:+15085551212@127.0.38.20',
  toAor: 'sip:+16173333456@jambonz.org',
  callingNumber: '+15085551212',
  calledNumber: '16173333456',
  originator: 'trunk',
  carrier: 'Westco & "Sons"',
  callSid: 'cs-1',
  accountSid: 'acct-1',
  applicationSid: 'app-1',
  recordingId: 'rec-1',
};

describe('recordingMetadataXml', () => {
  it('names the session, both participants with one stream each (labels 1 and 2) and jambonz’s extension data, escaped', () => {
    const xml = recordingMetadataXml(metadata);
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\r\n<recording xmlns="urn:ietf:params:xml:ns:recording:1">/,
    );
    expect(xml).toContain('<sipSessionID>abc@127.0.0.1</sipSessionID>');
    expect(xml).toContain('<jb:carrier>Westco &amp; &quot;Sons&quot;</jb:carrier>');
    expect(xml).toContain('<nameID aor="sip:+15085551212@127.0.38.20">');
    expect(xml.match(/<participant participant_id=/g)).toHaveLength(2);
    expect(xml.match(/<label>[12]<\/label>/g)).toEqual(['<label>1</label>', '<label>2</label>']);
    // Each participant sends the stream the other receives.
    const sends = [...xml.matchAll(/<send>([^<]+)<\/send>/g)].map((m) => m[1]);
    const recvs = [...xml.matchAll(/<recv>([^<]+)<\/recv>/g)].map((m) => m[1]);
    expect(recvs).toEqual([sends[1], sends[0]]);
  });
});

describe('siprecInviteBody', () => {
  it('is multipart/mixed: the SDP (session, handling=required), then the metadata (recording-session)', () => {
    const sdp =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n';
    const { body, contentType } = siprecInviteBody(sdp, '<recording/>');
    expect(contentType).toBe('multipart/mixed;boundary=uniqueBoundary');
    const parts = body.split('--uniqueBoundary');
    expect(parts).toHaveLength(4);
    expect(parts[3]).toBe('--\r\n');
    expect(parts[1]).toMatch(
      /^\r\nContent-Disposition: session;handling=required\r\nContent-Type: application\/sdp\r\n\r\nv=0/,
    );
    expect(parseSdp(parts[1]!.split('\r\n\r\n')[1]!).media[0]?.port).toBe(4000);
    expect(parts[2]).toBe(
      '\r\nContent-Disposition: recording-session\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording/>\r\n',
    );
  });
});
