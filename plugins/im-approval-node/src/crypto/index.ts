export {
  feishuDecrypt,
  feishuEncrypt,
  feishuSignature,
  feishuSignatureHeaders,
} from './feishu';
export { safeEqual } from './safeEqual';
export { WxBizMsgCrypt, wxBizMsgSignature } from './wxBizMsgCrypt';
export type { SignedMessage, WxBizMsgCryptOptions } from './wxBizMsgCrypt';
