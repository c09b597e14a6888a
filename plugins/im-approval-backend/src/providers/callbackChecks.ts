import {
  ImCallbackRejectedError,
  type ImCallbackRequest,
  type WxBizMsgCrypt,
} from '@im-approval/plugin-im-approval-node';

/** Throws the rejection the router answers with; nothing of the callback is applied. */
export function rejectCallback(status: 400 | 401, message: string): never {
  throw new ImCallbackRejectedError(status, message);
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return rejectCallback(400, `${what} is not JSON`);
  }
}

/** The first of the query parameters present (platforms renamed some over time). */
export function queryParam(
  request: ImCallbackRequest,
  ...names: string[]
): string | undefined {
  for (const name of names) {
    const value = request.query[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Rejects a signed timestamp further than `maxAgeSeconds` from now, either way (replays, skewed clocks). */
export function checkFresh(
  timestampMs: number,
  now: Date,
  maxAgeSeconds: number,
): void {
  if (
    !Number.isFinite(timestampMs) ||
    Math.abs(now.getTime() - timestampMs) > maxAgeSeconds * 1000
  ) {
    rejectCallback(
      401,
      `stale or malformed timestamp (accepted within ${maxAgeSeconds}s of now)`,
    );
  }
}

/**
 * Opens a WXBizMsgCrypt callback (DingTalk, WeCom): the signature in the query over `encrypt`,
 * the decryption with the receiveId checked, then the freshness of the signed timestamp.
 */
export function openSignedCallback(
  crypt: WxBizMsgCrypt,
  request: ImCallbackRequest,
  encrypt: string,
  options: { timestampUnitMs: number; now: Date; maxAgeSeconds: number },
): string {
  const signature = queryParam(request, 'msg_signature', 'signature');
  const timestamp = queryParam(request, 'timestamp', 'timeStamp');
  const nonce = queryParam(request, 'nonce');
  if (!signature || !timestamp || !nonce)
    rejectCallback(401, 'missing signature, timestamp or nonce in the query');
  const plaintext = crypt.open({ signature, timestamp, nonce, encrypt });
  checkFresh(
    Number(timestamp) * options.timestampUnitMs,
    options.now,
    options.maxAgeSeconds,
  );
  return plaintext;
}
