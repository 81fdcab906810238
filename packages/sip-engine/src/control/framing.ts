/**
 * drachtio control-protocol framing (PROTOCOL.md §1): `<N>#<payload>`, N = payload length in UTF-8 bytes,
 * no terminator. Frames may be split or coalesced arbitrarily by TCP, even inside the digits.
 */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const HASH = 0x23;
const MAX_LENGTH_DIGITS = 9;

export function encodeFrame(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
}

/** Accumulates stream chunks and returns every complete payload; throws FramingError on bad framing. */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = 1024 * 1024) {}

  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: string[] = [];
    for (;;) {
      const hash = this.buffer.indexOf(HASH);
      if (hash < 0) {
        if (this.buffer.length > MAX_LENGTH_DIGITS) throw new FramingError('frame length prefix too long');
        this.checkDigits(this.buffer.length);
        break;
      }
      if (hash === 0 || hash > MAX_LENGTH_DIGITS) throw new FramingError('bad frame length prefix');
      this.checkDigits(hash);
      const length = Number(this.buffer.toString('latin1', 0, hash));
      if (length > this.maxFrameBytes) throw new FramingError(`frame of ${length} bytes is over the limit`);
      const end = hash + 1 + length;
      if (this.buffer.length < end) break;
      frames.push(this.buffer.toString('utf8', hash + 1, end));
      this.buffer = this.buffer.subarray(end);
    }
    return frames;
  }

  private checkDigits(count: number): void {
    for (let i = 0; i < count; i++) {
      const c = this.buffer[i]!;
      if (c < 0x30 || c > 0x39) throw new FramingError('non-digit in frame length prefix');
    }
  }
}
