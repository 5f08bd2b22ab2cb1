/**
 * HMAC signing of wire messages.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs and verifies the four JSON frames of a message with the connection file's key. */
export class Signer {
  private readonly key: Buffer;
  private readonly algorithm: string;

  /**
   * @param key - the connection file's `key`; an empty key disables signing (the spec allows it).
   * @param scheme - the connection file's `signature_scheme`, e.g. `hmac-sha256`.
   */
  constructor(key: string, scheme = 'hmac-sha256') {
    const match = /^hmac-(sha\d+|md5)$/.exec(scheme);
    if (!match) throw new Error(`unsupported signature_scheme "${scheme}" (expected hmac-sha256)`);
    this.algorithm = match[1];
    this.key = Buffer.from(key, 'utf8');
  }

  /** True when the key is empty and messages are neither signed nor checked. */
  get disabled(): boolean {
    return this.key.length === 0;
  }

  /** Hex HMAC of header, parent header, metadata and content, in that order. */
  sign(frames: readonly Buffer[]): string {
    if (this.disabled) return '';
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest('hex');
  }

  /** Constant-time check of a received signature against the frames it covers. */
  verify(signature: string, frames: readonly Buffer[]): boolean {
    if (this.disabled) return true;
    const expected = Buffer.from(this.sign(frames), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (given.length !== expected.length) {
      // Compare anyway so that the time taken does not reveal the length mismatch early.
      timingSafeEqual(expected, expected);
      return false;
    }
    return timingSafeEqual(expected, given);
  }
}
