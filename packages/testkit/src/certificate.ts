import { execFileSync } from 'node:child_process';

/**
 * Writes a self-signed certificate for 127.0.0.1 (CN and subjectAltName) and its unencrypted key
 * with openssl: the engine's TLS/WSS listeners and the web phone's page, in tests and `npm start`.
 */
export function writeSelfSignedCertificate(files: { keyFile: string; certFile: string; days: number }): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      String(files.days),
      '-keyout',
      files.keyFile,
      '-out',
      files.certFile,
    ],
    { stdio: 'ignore' },
  );
}
