export { feishuDecrypt, feishuEncrypt, feishuSignature, safeEqualHex } from './feishu';
export { WxBizMsgCrypt, wxBizMsgSignature } from './wxBizMsgCrypt';
export type { SignedMessage, WxBizMsgCryptOptions } from './wxBizMsgCrypt';
