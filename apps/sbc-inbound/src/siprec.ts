/**
 * A SIPREC INVITE (RFC 7866) goes to the feature server as it came: multipart/mixed with rtpengine's
 * SDP in place of the recording client's, and the recording metadata as received (jambonz's boundary
 * and Content-Disposition).
 */
import type { Siprec } from './invite.js';

const BOUNDARY = 'uniqueBoundary';

export function siprecBody(sdp: string, siprec: Siprec): { body: string; contentType: string } {
  const body = [
    `--${BOUNDARY}`,
    'Content-Type: application/sdp',
    '',
    sdp.replace(/\r?\n$/, ''),
    `--${BOUNDARY}`,
    `Content-Type: ${siprec.metadataContentType}`,
    'Content-Disposition: recording-session',
    '',
    siprec.metadata,
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');
  return { body, contentType: `multipart/mixed;boundary="${BOUNDARY}"` };
}
