/**
 * The SBC as a SIPREC client (RFC 7866), driven by the feature server's INFO (reference §2.10):
 * `X-Reason: startCallRecording | stopCallRecording | pauseCallRecording | resumeCallRecording`.
 *
 * start: for each URI of `X-Srs-Url` (comma list) rtpengine forks the call's media (`subscribe
 * request`, all parties, one m-line each) and the SBC sends that SRS an INVITE with `Require: siprec`
 * and a multipart body (the SDP offer + `application/rs-metadata+xml` naming the call, its parties
 * and jambonz's extension data); the SRS's answer goes back to rtpengine (`subscribe answer`). One
 * SRS answering is enough. stop: BYE to the SRSs, `unsubscribe`. pause: the fork is removed
 * (`unsubscribe`) and the SRS re-INVITEd with its streams `inactive`; resume: a new fork, offered to
 * the SRS in a re-INVITE (`sendonly`). rtpengine's `block media` is not used for pausing: on
 * rtpengine 10.5 it silences the call's own media too (seen in the test), which jambonz's pause does. The INFO is answered 200 once done, 503 when
 * no SRS took it, 400 for a command the state does not allow (a second start, a stop with nothing
 * recording…) and 400 when it takes longer than JAMBONES_RECORDING_NO_ANSWER_TIMEOUT (jambonz):
 * what was started goes on by itself. A JSON body holds extra headers for the SRS's INVITE.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseSdp, write as writeSdp } from 'sdp-transform';
import type { Dialog, Logger, SipHeaders, SrfRequest } from '@sbc/service';
import type { CallMedia } from '../media/call-media.js';

export type RecordingCommand = 'start' | 'stop' | 'pause' | 'resume';

const COMMANDS: Record<string, RecordingCommand> = {
  startCallRecording: 'start',
  stopCallRecording: 'stop',
  pauseCallRecording: 'pause',
  resumeCallRecording: 'resume',
};

/** The recording command of a feature server INFO's X-Reason, if it is one. */
export function recordingCommandOf(reason: string | undefined): RecordingCommand | undefined {
  return reason === undefined ? undefined : COMMANDS[reason];
}

/** What the metadata says about the call (from its INVITE) and the recording (from the INFO). */
export interface RecordingMetadata {
  sipCallId: string;
  /** The caller's From and To URIs. */
  fromAor: string;
  toAor: string;
  callingNumber: string;
  calledNumber: string;
  originator: string;
  carrier: string;
  callSid: string;
  accountSid: string;
  applicationSid: string;
  recordingId: string;
}

const xml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

/**
 * RFC 7865 recording metadata: one session, the two participants each sending one stream (labels
 * 1 and 2, the m-lines of the offer) and receiving the other's, and jambonz's extension data so
 * SRSs written for jambonz find the call sid, account and numbers where they look for them.
 */
export function recordingMetadataXml(m: RecordingMetadata): string {
  const session = randomUUID();
  const [caller, callee] = [randomUUID(), randomUUID()];
  const [stream1, stream2] = [randomUUID(), randomUUID()];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<recording xmlns="urn:ietf:params:xml:ns:recording:1">',
    '  <datamode>complete</datamode>',
    `  <session session_id="${session}">`,
    `    <sipSessionID>${xml(m.sipCallId)}</sipSessionID>`,
    '  </session>',
    '  <extensiondata xmlns:jb="http://jambonz.org/siprec">',
    `    <jb:callsid>${xml(m.callSid)}</jb:callsid>`,
    '    <jb:direction>inbound</jb:direction>',
    `    <jb:accountsid>${xml(m.accountSid)}</jb:accountsid>`,
    `    <jb:applicationsid>${xml(m.applicationSid)}</jb:applicationsid>`,
    `    <jb:recordingid>${xml(m.recordingId)}</jb:recordingid>`,
    `    <jb:originationsource>${xml(m.originator)}</jb:originationsource>`,
    `    <jb:carrier>${xml(m.carrier)}</jb:carrier>`,
    `    <jb:callingnumber>${xml(m.callingNumber)}</jb:callingnumber>`,
    `    <jb:callednumber>${xml(m.calledNumber)}</jb:callednumber>`,
    '  </extensiondata>',
    ...[
      [caller, m.fromAor, m.callingNumber, stream1, stream2, '1'],
      [callee, m.toAor, m.calledNumber, stream2, stream1, '2'],
    ].flatMap(([id, aor, name, sends, , label]) => [
      `  <participant participant_id="${id}">`,
      `    <nameID aor="${xml(aor!)}">`,
      `      <name>${xml(name!)}</name>`,
      '    </nameID>',
      '  </participant>',
      `  <participantsessionassoc participant_id="${id}" session_id="${session}" />`,
      `  <stream stream_id="${sends}" session_id="${session}">`,
      `    <label>${label}</label>`,
      '  </stream>',
    ]),
    `  <participantstreamassoc participant_id="${caller}">`,
    `    <send>${stream1}</send>`,
    `    <recv>${stream2}</recv>`,
    '  </participantstreamassoc>',
    `  <participantstreamassoc participant_id="${callee}">`,
    `    <send>${stream2}</send>`,
    `    <recv>${stream1}</recv>`,
    '  </participantstreamassoc>',
    '</recording>',
  ].join('\r\n');
}

const BOUNDARY = 'uniqueBoundary';

/** RFC 7866 §6.1.1: the SRS's INVITE body, the SDP offer and the metadata in a multipart/mixed. */
export function siprecInviteBody(sdp: string, metadataXml: string): { body: string; contentType: string } {
  return {
    contentType: `multipart/mixed;boundary=${BOUNDARY}`,
    body: [
      `--${BOUNDARY}`,
      'Content-Disposition: session;handling=required',
      'Content-Type: application/sdp',
      '',
      sdp.replace(/\r?\n$/, ''),
      `--${BOUNDARY}`,
      'Content-Disposition: recording-session',
      'Content-Type: application/rs-metadata+xml',
      '',
      metadataXml,
      `--${BOUNDARY}--`,
      '',
    ].join('\r\n'),
  };
}

/** rtpengine's subscription offer with our session name, the m-lines labelled 1 and 2 (RFC 4574). */
function labelledOffer(sdp: string): string {
  const parsed = parseSdp(sdp);
  parsed.name = 'SBC SIPREC client';
  parsed.media.forEach((media, i) => {
    media.label = String(i + 1);
  });
  return writeSdp(parsed);
}

/**
 * `sdp` with every stream in `direction`, as the next version of the session `previous` (RFC 3264
 * §8: same origin, version one higher).
 */
function redirected(sdp: string, direction: 'inactive' | 'sendonly', previous: string = sdp): string {
  const parsed = parseSdp(sdp);
  const before = parseSdp(previous).origin;
  if (!before) throw new Error('recording offer without an o= line');
  parsed.origin = { ...before, sessionVersion: Number(before.sessionVersion) + 1 };
  for (const media of parsed.media) media.direction = direction;
  return writeSdp(parsed);
}

/** One SRS being recorded to. */
interface SrsLeg {
  url: string;
  dialog: Dialog;
  /** The rtpengine subscription (fork) feeding it; none while paused. */
  toTag: string | undefined;
  offer: string;
  paused: boolean;
}

export interface RecorderDeps {
  media: Pick<CallMedia, 'subscribe' | 'subscribed' | 'unsubscribe'>;
  createUac: (uri: string, options: { localSdp: string; headers: SipHeaders }) => Promise<Dialog>;
  log: Logger;
  /** JAMBONES_RECORDING_NO_ANSWER_TIMEOUT (ms). */
  noAnswerTimeoutMs: number;
  /** The call's part of the metadata. */
  call: Omit<RecordingMetadata, 'callSid' | 'accountSid' | 'applicationSid' | 'recordingId'>;
}

/** The recording of one call: its SRS legs, and what the feature server asks. */
export class CallRecorder {
  private legs: SrsLeg[] = [];
  /** A start under way (the state is taken before the SRSs answer). */
  private starting = false;

  constructor(private readonly deps: RecorderDeps) {}

  /** Whether a recording is up (for the CDR's recording state and tests). */
  get recording(): boolean {
    return this.legs.length > 0;
  }

  /** The status that answers the INFO carrying `command`. */
  async handle(command: RecordingCommand, req: SrfRequest): Promise<number> {
    const refused = this.refusal(command, req);
    if (refused) {
      this.deps.log.info({ command, why: refused }, 'recording command refused');
      return 400;
    }
    const work = this.run(command, req).then(
      (ok) => (ok ? 200 : 503),
      (err: unknown) => {
        this.deps.log.warn({ command, err: String(err) }, 'recording command failed');
        return 503;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.deps.log.info(
          { command, timeoutMs: this.deps.noAnswerTimeoutMs },
          'no answer from the SRS in time',
        );
        resolve(400);
      }, this.deps.noAnswerTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The call ended: BYE to every SRS, forks removed. Never rejects. */
  stop(): void {
    const legs = this.legs;
    this.legs = [];
    for (const leg of legs) void this.hangUp(leg);
  }

  /** Why `command` cannot be carried out now (jambonz's 400 cases), or undefined. */
  private refusal(command: RecordingCommand, req: SrfRequest): string | undefined {
    switch (command) {
      case 'start':
        if (this.starting || this.legs.length > 0) return 'already recording';
        if (!req.get('X-Srs-Url')) return 'no X-Srs-Url';
        return undefined;
      case 'stop':
        return this.legs.length === 0 ? 'not recording' : undefined;
      case 'pause':
        return this.legs.some((l) => !l.paused) ? undefined : 'nothing to pause';
      case 'resume':
        return this.legs.some((l) => l.paused) ? undefined : 'nothing paused';
    }
  }

  private async run(command: RecordingCommand, req: SrfRequest): Promise<boolean> {
    switch (command) {
      case 'start':
        return this.start(req);
      case 'stop':
        this.stop();
        return true;
      case 'pause':
      case 'resume': {
        const paused = command === 'pause';
        const legs = this.legs.filter((l) => l.paused !== paused);
        const results = await Promise.allSettled(
          legs.map((leg) => this.redirect(leg, paused, extraHeaders(req))),
        );
        return results.some((r) => r.status === 'fulfilled');
      }
    }
  }

  private async start(req: SrfRequest): Promise<boolean> {
    this.starting = true;
    try {
      const urls = (req.get('X-Srs-Url') ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      const metadata = recordingMetadataXml({
        ...this.deps.call,
        callSid: req.get('X-Call-Sid') ?? '',
        accountSid: req.get('X-Account-Sid') ?? '',
        applicationSid: req.get('X-Application-Sid') ?? '',
        recordingId: req.get('X-Srs-Recording-ID') ?? '',
      });
      const headers = extraHeaders(req);
      const results = await Promise.allSettled(urls.map((url) => this.connect(url, metadata, headers)));
      this.legs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const [i, r] of results.entries())
        if (r.status === 'rejected')
          this.deps.log.info({ srs: urls[i], err: String(r.reason) }, 'SRS not connected');
      return this.legs.length > 0;
    } finally {
      this.starting = false;
    }
  }

  private async connect(url: string, metadata: string, headers: SipHeaders): Promise<SrsLeg> {
    const fork = await this.deps.media.subscribe();
    try {
      const offer = labelledOffer(fork.sdp);
      const { body, contentType } = siprecInviteBody(offer, metadata);
      const dialog = await this.deps.createUac(url, {
        localSdp: body,
        headers: { ...headers, 'Content-Type': contentType, Require: 'siprec' },
      });
      await this.deps.media.subscribed(fork.toTag, dialog.remote.sdp);
      this.deps.log.info({ srs: url }, 'recording to the SRS');
      return { url, dialog, toTag: fork.toTag, offer, paused: false };
    } catch (err) {
      await this.deps.media.unsubscribe(fork.toTag).catch(() => undefined);
      throw err;
    }
  }

  private async redirect(leg: SrsLeg, pause: boolean, headers: SipHeaders): Promise<void> {
    if (pause) {
      const offer = redirected(leg.offer, 'inactive');
      if (leg.toTag) await this.deps.media.unsubscribe(leg.toTag);
      leg.toTag = undefined;
      leg.paused = true;
      await leg.dialog.modify(offer, { headers });
      leg.offer = offer;
      return;
    }
    const fork = await this.deps.media.subscribe();
    try {
      const offer = redirected(labelledOffer(fork.sdp), 'sendonly', leg.offer);
      const answer = await leg.dialog.modify(offer, { headers });
      await this.deps.media.subscribed(fork.toTag, answer);
      leg.toTag = fork.toTag;
      leg.offer = offer;
      leg.paused = false;
    } catch (err) {
      await this.deps.media.unsubscribe(fork.toTag).catch(() => undefined);
      throw err;
    }
  }

  private async hangUp(leg: SrsLeg): Promise<void> {
    if (leg.toTag) await this.deps.media.unsubscribe(leg.toTag).catch(() => undefined);
    await leg.dialog.destroy().catch(() => undefined);
  }
}

/** The INFO's JSON body: extra headers for the SRS (jambonz); anything else is ignored. */
function extraHeaders(req: SrfRequest): SipHeaders {
  if (!(req.get('Content-Type') ?? '').toLowerCase().startsWith('application/json') || !req.body) return {};
  try {
    const parsed: unknown = JSON.parse(req.body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        (e): e is [string, string] => typeof e[1] === 'string' && /^[\w-]+$/.test(e[0]),
      ),
    );
  } catch {
    return {};
  }
}
