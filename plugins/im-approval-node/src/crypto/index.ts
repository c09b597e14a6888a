export { feishuDecrypt, feishuEncrypt, feishuSignature, safeEqualHex } from './feishu';
