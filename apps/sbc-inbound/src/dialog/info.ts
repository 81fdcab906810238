/**
 * In-dialog INFO (reference §2.9). From the feature server, `X-Reason` asks the SBC itself:
 * `mute…` / `unmute…` block or unblock what the feature server sends towards the caller (media and
 * DTMF) in rtpengine, `…Dtmf…` sends a digit to the caller. From the caller, a DTMF INFO
 * (`application/dtmf-relay`, `application/dtmf`) is a digit for the feature server. How a digit
 * travels (an RFC 2833 event played by rtpengine, or an INFO) is the call's choice (`passDtmf`).
 * `…CallRecording` commands drive the SIPREC client (dialog/recording.ts). Everything else is relayed
 * to the other leg as it is.
 */
import type { Logger, SrfRequest, SrfResponse } from '@sbc/service';
import type { CallMedia, Side } from '../media/call-media.js';
import { isDtmfContentType, parseDtmf, type Dtmf } from './dtmf.js';
import { recordingCommandOf, type RecordingCommand } from './recording.js';

/** How a digit reached the other party. */
export type DtmfCarriage = 'rfc2833' | 'info';

/** jambonz plays the feature server's DTMF at -13 dBm0. */
export const FEATURE_SERVER_DTMF_VOLUME = 13;

export interface InfoDeps {
  media: Pick<CallMedia, 'setBlocked'>;
  /** Sends a digit from `from` to the other party; `volume` in -dBm0 for RFC 2833. */
  passDtmf: (from: Side, dtmf: Dtmf & { volume?: number }) => Promise<DtmfCarriage>;
  log: Logger;
  /** Carries out a SIPREC command (dialog/recording.ts); resolves with the INFO's status. */
  recording: (command: RecordingCommand, req: SrfRequest) => Promise<number>;
  /** Relays the INFO to the other leg and its answer back (the generic in-dialog relay). */
  relay: (req: SrfRequest, res: SrfResponse) => Promise<void>;
}

/** What an INFO asks the SBC to do itself; `relay` when it is for the other party. */
export type InfoAction =
  | { kind: 'mute' | 'unmute' }
  | { kind: 'dtmf'; dtmf: Dtmf; volume?: number }
  | { kind: 'malformed-dtmf' }
  | { kind: 'recording'; command: RecordingCommand }
  | { kind: 'relay' };

export function infoAction(from: Side, req: Pick<SrfRequest, 'get' | 'body'>): InfoAction {
  if (from === 'featureServer') {
    const reason = req.get('X-Reason');
    if (reason === undefined) return { kind: 'relay' };
    if (reason.startsWith('mute')) return { kind: 'mute' };
    if (reason.startsWith('unmute')) return { kind: 'unmute' };
    const command = recordingCommandOf(reason);
    if (command) return { kind: 'recording', command };
    if (reason.includes('Dtmf')) {
      const dtmf = parseDtmf(req.body);
      return dtmf ? { kind: 'dtmf', dtmf, volume: FEATURE_SERVER_DTMF_VOLUME } : { kind: 'malformed-dtmf' };
    }
    return { kind: 'relay' };
  }
  if (!isDtmfContentType(req.get('Content-Type'))) return { kind: 'relay' };
  const dtmf = parseDtmf(req.body);
  return dtmf ? { kind: 'dtmf', dtmf } : { kind: 'malformed-dtmf' };
}

/** Answers an INFO from `from`: 200 once the digit is passed on, 400 for a DTMF INFO without a digit, 500 when that failed. */
export async function handleInfo(
  deps: InfoDeps,
  from: Side,
  req: SrfRequest,
  res: SrfResponse,
): Promise<void> {
  const action = infoAction(from, req);
  const log = deps.log;
  try {
    switch (action.kind) {
      case 'relay':
        return await deps.relay(req, res);
      case 'recording': {
        const status = await deps.recording(action.command, req);
        log.info({ command: action.command, status }, 'recording command answered');
        res.send(status);
        return;
      }
      case 'malformed-dtmf':
        log.info({ from, body: req.body }, 'DTMF INFO without a digit');
        res.send(400, 'Bad DTMF');
        return;
      case 'mute':
      case 'unmute':
        // The feature server's media and DTMF towards the caller.
        await deps.media.setBlocked('featureServer', action.kind === 'mute');
        log.info({ reason: req.get('X-Reason') }, `media from the feature server ${action.kind}d`);
        res.send(200);
        return;
      case 'dtmf': {
        const carriage = await deps.passDtmf(from, {
          ...action.dtmf,
          ...(action.volume !== undefined && { volume: action.volume }),
        });
        log.info({ from, ...action.dtmf, as: carriage }, 'DTMF INFO passed on');
        res.send(200);
        return;
      }
    }
  } catch (err) {
    log.warn({ from, action: action.kind, err: String(err) }, 'INFO not carried out');
    if (!res.finalResponseSent) res.send(500);
  }
}
