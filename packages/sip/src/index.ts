export type * from './types.js';
export { SipHeaders, canonicalHeaderKey, isListHeader, splitHeaderList } from './headers.js';
export { parseMessage, DEFAULT_PARSE_LIMITS } from './parser.js';
export { serializeMessage } from './serializer.js';
export { parseUri, tryParseUri, formatUri } from './uri.js';
export { parseVia, tryParseVia, formatVia, topVia } from './via.js';
export { parseNameAddr, tryParseNameAddr, formatNameAddr, tagOf, stripTag } from './name-addr.js';
export { parseCSeq, tryParseCSeq, formatCSeq } from './cseq.js';
export { createRequest, createResponse, responseTo, setToTag, type HeaderInit } from './builder.js';
export { reasonPhrase, knownStatusCodes } from './reasons.js';
export { newTag, newBranch, newCallId, BRANCH_MAGIC_COOKIE } from './ids.js';
export { SipStreamFramer, type FramedItem } from './framer.js';
export {
  SipSyntaxError,
  SipUriError,
  ViaSyntaxError,
  NameAddrSyntaxError,
  CSeqSyntaxError,
} from './errors.js';
export { quote, unquote } from './grammar.js';
export {
  parseSipUri,
  isIpLiteral,
  parseContactList,
  rewriteContactExpires,
  type SipUriParts,
} from './app-syntax.js';
// Lower-level pieces the engine's transaction and transport layers use.
export { uriShape } from './uri.js';
export { formatHost } from './grammar.js';
export { ownCopy } from './parser.js';
export type { SipHeaders as SipHeadersContract } from './types.js';
