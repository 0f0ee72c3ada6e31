import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks X-Hub-Signature-256 over the raw bytes. Done with node:crypto rather than
 * @octokit/webhooks-methods because that takes the payload as a string, and a body holding invalid
 * UTF-8 would be altered by the decoding and then fail to verify.
 */
export function isValidSignature(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (!signature || !/^sha256=[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature.slice('sha256='.length), 'hex'));
}
